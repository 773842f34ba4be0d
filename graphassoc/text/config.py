"""Config of the text encoder."""

from __future__ import annotations

from graphassoc.data.config import StrictModel


class TextConfig(StrictModel):
    pass
