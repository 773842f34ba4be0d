"""Config of the rule-vs-model comparison."""

from __future__ import annotations

from graphassoc.data.config import StrictModel


class EvaluateConfig(StrictModel):
    pass
