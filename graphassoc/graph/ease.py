"""EASE item-item weights (Steck 2019) from the co-occurrence gram: the model and the rankers share it.

Two methods, one result where both run:
- dense (`ease_weights`): B = I - P diag(1/diag(P)), P = (G + lam I)^-1 — exact, O(n^2) memory.
- sparse (`sparse_ease`): EASE's constraint diag(B) = 0 decouples the columns: column j is the
  ridge regression of x_j on every other item, b_j = (G[-j,-j] + lam I)^-1 G[-j, j] (block
  inversion of the closed form). Restricting the regressors to j's K strongest co-purchase partners
  is fsSLIM's neighbourhood restriction (Ning & Karypis, ICDM 2011) applied to EASE: O(n K^3) time,
  O(n K) memory, and exactly dense EASE when K >= n - 1.
`fit_ease` picks one by size (EaseConfig.method).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from graphassoc.graph.ease_config import EaseConfig
from graphassoc.memory import check_fits

if TYPE_CHECKING:
    import scipy.sparse as sp

# Rows of gathered neighbourhood (batch x K) per batched solve: bounds the (batch, K, K) float64 block.
_SOLVE_ROWS = 20000


def gram(x: "sp.spmatrix") -> "sp.csr_matrix":
    """Co-occurrence counts X^T X of a binary basket x item matrix, sparse float32 (diagonal = popularity)."""
    import scipy.sparse as sp

    x = sp.csr_matrix(x, dtype=np.float32)
    return (x.T.tocsr() @ x).tocsr()


def ease_weights(gram: np.ndarray, lam: float) -> np.ndarray:
    """EASE closed form: B = I - P diag(1/diag(P)), P = (G + lam I)^-1, diag(B) = 0."""
    g = np.asarray(gram, dtype=np.float64).copy()
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


def neighbourhoods(g: "sp.csr_matrix", neighbours: int) -> np.ndarray:
    """(n, K) int64: each item's K strongest co-purchase partners (itself excluded), sorted by index.

    Ranked by co-occurrence count; ties (zero counts included, when an item has fewer than K
    partners) go to the more popular item, then the lower index, so K >= n - 1 takes every item.
    """
    n = g.shape[0]
    k = min(neighbours, n - 1)
    pop = g.diagonal().astype(np.float64)
    # Counts are integers: a tie-break below 1 reorders ties only. Index tie-break: below that again.
    tie = 0.5 * pop / (pop.max() + 1.0) + 0.25 * (n - np.arange(n)) / (n + 1.0) / (pop.max() + 2.0)
    out = np.empty((n, k), dtype=np.int64)
    step = max(1, (1 << 24) // max(n, 1))  # rows of dense keys per block: ~128 MB of float64
    for start in range(0, n, step):
        rows = g[start:start + step].toarray().astype(np.float64) + tie[None, :]
        rows[np.arange(len(rows)), np.arange(start, start + len(rows))] = -np.inf
        top = np.argpartition(-rows, k - 1, axis=1)[:, :k] if k < n else np.argsort(-rows, axis=1)[:, :k]
        out[start:start + len(rows)] = np.sort(top, axis=1)
    return out


def sparse_ease(x: "sp.csr_matrix", lam: float, neighbours: int) -> "sp.csr_matrix":
    """EASE restricted to each item's top-`neighbours` partners: n x n float32 CSR, zero diagonal,
    B[i, j] = weight of query item i for target j, at most `neighbours` nonzeros per column."""
    return sparse_ease_from_gram(gram(x), lam, neighbours=neighbours)


def sparse_ease_from_gram(g: "sp.csr_matrix", lam: float, hoods: np.ndarray | None = None,
                          neighbours: int = 200) -> "sp.csr_matrix":
    """sparse_ease on a precomputed gram (and neighbourhoods, which do not depend on lam: tuning reuses them)."""
    import scipy.sparse as sp

    n = g.shape[0]
    if n < 2:
        return sp.csr_matrix((n, n), dtype=np.float32)
    hoods = neighbourhoods(g, neighbours) if hoods is None else hoods
    k = hoods.shape[1]
    values = np.empty((n, k), dtype=np.float32)
    batch = max(1, _SOLVE_ROWS // k)
    # Many small solves: a multi-threaded BLAS spends more time synchronising than solving (60x slower
    # on a busy 2-core machine), so each batched solve runs on one thread.
    with threadpool_limits(1):
        for start in range(0, n, batch):
            cols = np.arange(start, min(start + batch, n))
            values[start:start + batch] = _solve_columns(g, hoods[start:start + batch], cols, lam)
    b = sp.csc_matrix((values.ravel(), hoods.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    return b.tocsr()


def _solve_columns(g: "sp.csr_matrix", hoods: np.ndarray, cols: np.ndarray, lam: float) -> np.ndarray:
    """Ridge weights of columns `cols` on their neighbourhoods: (G[N,N] + lam I)^-1 G[N, j], batched."""
    union, pos = np.unique(hoods, return_inverse=True)
    pos = pos.reshape(hoods.shape)
    block = g[union][:, np.concatenate([union, cols])].toarray().astype(np.float64)
    m = len(union)
    lhs = block[pos[:, :, None], pos[:, None, :]]  # (batch, K, K) = G[N_j, N_j]
    lhs += lam * np.eye(hoods.shape[1])[None]
    rhs = block[pos, m + np.arange(len(cols))[:, None]]  # (batch, K) = G[N_j, j]
    return np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0].astype(np.float32)


def use_dense(n_items: int, cfg: EaseConfig) -> bool:
    """auto: dense while the catalogue is small enough and its matrices fit; else the forced method."""
    if cfg.method != "auto":
        return cfg.method == "dense"
    from graphassoc.memory import available_bytes

    return n_items <= cfg.dense_max_items and _dense_bytes(n_items) <= 0.5 * available_bytes()


def _dense_bytes(n: int) -> float:
    return 3 * 8.0 * n * n  # the float64 gram, its inverse and the weights: ~3 dense n x n at once


def fit_ease(x: "sp.csr_matrix", lam: float, cfg: EaseConfig | None = None) -> "np.ndarray | sp.csr_matrix":
    """EASE weights of a binary basket x item matrix: dense ndarray or sparse CSR (EaseConfig.method)."""
    return fit_ease_gram(gram(x), lam, cfg)


def fit_ease_gram(g: "sp.csr_matrix", lam: float, cfg: EaseConfig | None = None) -> "np.ndarray | sp.csr_matrix":
    """fit_ease on a precomputed sparse gram."""
    cfg = cfg or EaseConfig()
    n = g.shape[0]
    if use_dense(n, cfg):
        check_fits(_dense_bytes(n), f"dense EASE over {n:,} items ({n:,} x {n:,} float64 matrices)",
                   "set --set ease.method=sparse (EASE over each item's top neighbours)")
        return ease_weights(g.toarray(), lam)
    return sparse_ease_from_gram(g, lam, neighbours=cfg.neighbours)
