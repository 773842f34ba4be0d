"""Nearest items by cosine: exact blocked matmul while it is cheap, a faiss HNSW index at size.

Vectors are L2-normalised, so the inner product is the cosine. Results are sorted by cosine
(descending), ties by index; `exclude_self` means query row i is base row i and drops it.
"""

from __future__ import annotations

import numpy as np

from graphassoc.evaluate.protocol import top_k
from graphassoc.text.neighbours_config import NeighboursConfig

# Queries per block of the exact search: (block x n_base) float32 similarities in memory.
_BLOCK_BYTES = 64 * 2**20


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32."""
    v = np.asarray(vectors, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def nearest(query: np.ndarray, base: np.ndarray, k: int, exclude_self: bool = False,
            cfg: NeighboursConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k most similar base rows of each query row: indices (nq, k) int64, cosines (nq, k) float32.

    With fewer than k candidates the tail holds index -1 and cosine -inf.
    """
    cfg = cfg or NeighboursConfig()
    q, b = normalise(query), normalise(base)
    if len(q) * len(b) <= cfg.exact_max_pairs:
        return exact_nearest(q, b, k, exclude_self)
    return hnsw_nearest(q, b, k, exclude_self, cfg)


def _pad(idx: np.ndarray, sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if idx.shape[1] >= k:
        return idx[:, :k], sims[:, :k]
    extra = k - idx.shape[1]
    return (np.pad(idx, ((0, 0), (0, extra)), constant_values=-1),
            np.pad(sims, ((0, 0), (0, extra)), constant_values=-np.inf))


def exact_nearest(q: np.ndarray, b: np.ndarray, k: int, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Brute force in blocks of queries: (block x n_base) similarities at a time, never nq x n_base."""
    idx = np.full((len(q), k), -1, dtype=np.int64)
    sims = np.full((len(q), k), -np.inf, dtype=np.float32)
    block = max(1, _BLOCK_BYTES // (4 * max(len(b), 1)))
    for start in range(0, len(q), block):
        s = q[start:start + block] @ b.T
        if exclude_self:
            rows = np.arange(len(s))
            s[rows, start + rows] = -np.inf
        i = top_k(s, k)
        v = np.take_along_axis(s, i, axis=1)
        i[~np.isfinite(v)] = -1
        idx[start:start + len(s)], sims[start:start + len(s)] = _pad(i, v, k)
    return idx, sims


def hnsw_nearest(q: np.ndarray, b: np.ndarray, k: int, exclude_self: bool,
                 cfg: NeighboursConfig) -> tuple[np.ndarray, np.ndarray]:
    """Approximate search through a faiss HNSW index (inner product on unit vectors = cosine)."""
    import faiss

    index = faiss.IndexHNSWFlat(b.shape[1], cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = cfg.hnsw_ef_construction
    index.add(np.ascontiguousarray(b))
    index.hnsw.efSearch = max(cfg.hnsw_ef_search, k + 1)
    want = min(k + int(exclude_self), len(b))
    sims, idx = index.search(np.ascontiguousarray(q), want)
    idx = idx.astype(np.int64)
    if exclude_self:
        own = idx == np.arange(len(q))[:, None]
        idx, sims = np.where(own, -1, idx), np.where(own, -np.inf, sims)
        order = np.argsort(own, axis=1, kind="stable")  # the own row to the end; _pad cuts to k
        idx, sims = np.take_along_axis(idx, order, axis=1), np.take_along_axis(sims, order, axis=1)
    sims = np.where(idx >= 0, sims, -np.inf).astype(np.float32)
    return _pad(idx, sims, k)
