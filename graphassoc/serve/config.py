"""Config of the HTTP service (`graphassoc serve`): request limits and what is loaded."""

from __future__ import annotations

from pydantic import Field

from graphassoc.data.config import StrictModel


class ServeConfig(StrictModel):
    # Rankers loaded at start (each is fitted once, then shared by every request); a request's
    # "method" must be one of them. Empty = the run's default (hybrid with a trained model, else ease).
    methods: list[str] = Field(default_factory=list)
    # Request limits, answered with 422 and the limit's name: they bound the work one request can cause.
    max_basket: int = Field(default=100, ge=1)
    max_text_chars: int = Field(default=500, ge=1)
    max_k: int = Field(default=100, ge=1)
    max_rules: int = Field(default=500, ge=1)
    # Free-text search with the int8-quantised encoder (CPU only): a faster /search, slightly less exact.
    search_int8: bool = False
