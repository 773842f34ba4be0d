"""Config of the co-purchase graph stage."""

from __future__ import annotations

from pydantic import Field

from graphassoc.data.config import StrictModel


class GraphConfig(StrictModel):
    # An item pair becomes an edge when seen together in at least this many train baskets.
    min_count: int = Field(default=2, ge=1)
