"""Config of EASE (the item-item weights the rankers and the model share): dense or sparse, by size."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from graphassoc.data.config import StrictModel


class EaseConfig(StrictModel):
    # dense: the exact closed form (an items x items float64 inverse, O(n^3) time, O(n^2) memory).
    # sparse: each item's column regressed on its `neighbours` strongest co-purchase partners only
    # (EASE restricted to a neighbourhood, as fsSLIM restricts SLIM): O(n K^3) time, O(n K) memory.
    # auto: dense while n <= dense_max_items and the dense matrices fit in memory, else sparse.
    # The same size rule keeps the co-occurrence ranker's item x item matrix dense or sparse.
    method: Literal["auto", "dense", "sparse"] = "auto"
    # The dense fit grows as n^3 per lambda, the sparse one as n K^3: at 3,900 items (the shared
    # data, kept exact) they cost about the same on a 2-core machine; above, sparse is cheaper.
    dense_max_items: int = Field(default=5_000, ge=1)
    # Partners per item in the sparse method. Shared data, test HR@10 (lambda tuned on valid):
    # dense 0.288, K=100 0.293, K=200 0.295; K=100 fits ~3x faster than K=200.
    neighbours: int = Field(default=100, ge=1)
