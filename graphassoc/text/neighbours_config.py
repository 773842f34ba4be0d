"""Config of nearest-neighbour search over item embeddings (text neighbours, related-item lists)."""

from __future__ import annotations

from pydantic import Field

from graphassoc.data.config import StrictModel


class NeighboursConfig(StrictModel):
    # Exact search (blocked matmul) while queries x base <= exact_max_pairs; above, a faiss HNSW
    # index (approximate; recall measured in tests/text/test_neighbours.py).
    exact_max_pairs: int = Field(default=2_000_000_000, ge=1)
    # HNSW graph degree and search breadth (faiss defaults M=32; efSearch raised for recall >= 0.95).
    hnsw_m: int = Field(default=32, ge=4)
    hnsw_ef_search: int = Field(default=128, ge=1)
    hnsw_ef_construction: int = Field(default=80, ge=1)
