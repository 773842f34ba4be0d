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
    method: Literal["auto", "dense", "sparse"] = "auto"
    dense_max_items: int = Field(default=20_000, ge=1)
    # Partners per item in the sparse method (measured on the shared data in bench/bench_compare.py:
    # HR@10 of K=200 is within 0.005 of dense EASE).
    neighbours: int = Field(default=200, ge=1)
