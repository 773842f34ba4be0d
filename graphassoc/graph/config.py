"""Config of the co-purchase graph stage."""

from __future__ import annotations

from pydantic import Field

from graphassoc.data.config import StrictModel


class GraphConfig(StrictModel):
    # An item pair becomes an edge when seen together in at least this many train baskets.
    min_count: int = Field(default=2, ge=1)
    # Keep only each item's k heaviest edges (an edge stays when it is in the top k of either end);
    # None keeps every edge. Bounds the graph at about items x k edges on very large shops.
    top_k: int | None = Field(default=None, ge=1)
