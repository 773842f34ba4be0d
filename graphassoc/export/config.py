"""Config of knowledge-graph exports."""

from __future__ import annotations

from graphassoc.data.config import StrictModel


class ExportConfig(StrictModel):
    pass
