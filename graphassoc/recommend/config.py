"""Config of recommendations."""

from __future__ import annotations

from graphassoc.data.config import StrictModel


class RecommendConfig(StrictModel):
    pass
