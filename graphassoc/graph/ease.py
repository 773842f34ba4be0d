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
from graphassoc.threads import thread_map

if TYPE_CHECKING:
    import scipy.sparse as sp

# Rows of gathered neighbourhood (batch x K) per batched solve: bounds the (batch, K, K) float64 block.
_SOLVE_ROWS = 20000


def gram(x: "sp.spmatrix") -> "sp.csr_matrix":
    """Co-occurrence counts X^T X of a binary basket x item matrix, sparse float32 (diagonal = popularity)."""
    import scipy.sparse as sp

    x = sp.csr_matrix(x, dtype=np.float32)
    out = (x.T.tocsr() @ x).tocsr()
    out.sort_indices()  # a product's rows come unsorted; lookups (g[i, j]) then scan instead of bisect
    return out


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
    Reads each gram row's nonzeros only: O(nnz + n K log K), never an n x n array.
    """
    n = g.shape[0]
    k = min(neighbours, n - 1)
    pop = g.diagonal().astype(np.float64)
    # Counts are integers: a tie-break below 1 reorders ties only; the index tie-break sits below that.
    tie = 0.5 * pop / (pop.max() + 1.0) + 0.25 * (n - np.arange(n)) / (n + 1.0) / (pop.max() + 2.0)
    fallback = np.argsort(-tie, kind="stable")[:k + 1]  # zero-count partners, best first: fills short rows
    out = np.empty((n, k), dtype=np.int64)
    for row in range(n):
        cols = g.indices[g.indptr[row]:g.indptr[row + 1]]
        vals = g.data[g.indptr[row]:g.indptr[row + 1]]
        keep = (cols != row) & (vals > 0)
        cols = cols[keep].astype(np.int64)
        if len(cols) > k:
            cols = cols[np.argpartition(-(vals[keep] + tie[cols]), k - 1)[:k]]
        elif len(cols) < k:
            extra = fallback[(fallback != row) & ~np.isin(fallback, cols)][:k - len(cols)]
            cols = np.concatenate([cols, extra])
        out[row] = np.sort(cols)
    return out


def sparse_ease(x: "sp.csr_matrix", lam: float, neighbours: int) -> "sp.csr_matrix":
    """EASE restricted to each item's top-`neighbours` partners: n x n float32 CSR, zero diagonal,
    B[i, j] = weight of query item i for target j, at most `neighbours` nonzeros per column."""
    return sparse_ease_from_gram(gram(x), lam, neighbours=neighbours)


def sparse_ease_from_gram(g: "sp.csr_matrix", lam: float, hoods: np.ndarray | None = None,
                          neighbours: int = 100) -> "sp.csr_matrix":
    """sparse_ease on a precomputed gram (and neighbourhoods, which do not depend on lam)."""
    return sparse_ease_path(g, [lam], hoods, neighbours)[0]


def sparse_ease_path(g: "sp.csr_matrix", lams: list[float], hoods: np.ndarray | None = None,
                     neighbours: int = 100) -> list["sp.csr_matrix"]:
    """sparse_ease for several lambdas at once: each neighbourhood block is gathered once, solved per lambda
    (tuning lambda on validation costs one gather and len(lams) batched solves, not len(lams) fits)."""
    import scipy.sparse as sp

    n = g.shape[0]
    if n < 2:
        return [sp.csr_matrix((n, n), dtype=np.float32) for _ in lams]
    hoods = neighbourhoods(g, neighbours) if hoods is None else hoods
    k = hoods.shape[1]
    values = np.empty((len(lams), n, k), dtype=np.float32)
    batch = max(1, _SOLVE_ROWS // k)

    def solve(start: int) -> None:
        cols = np.arange(start, min(start + batch, n))
        values[:, start:start + batch] = _solve_columns(g, hoods[start:start + batch], cols, lams)

    # Many small solves: a multi-threaded BLAS spends more time synchronising than solving (60x slower
    # on a busy 2-core machine), so each solve runs on one BLAS thread and the batches on a few Python
    # threads instead (graphassoc/threads.py): each holds one (union x union) gathered block.
    with threadpool_limits(1):
        thread_map(solve, range(0, n, batch))
    indptr = np.arange(0, n * k + 1, k)
    return [sp.csc_matrix((v.ravel(), hoods.ravel(), indptr), shape=(n, n)).tocsr() for v in values]


def _solve_columns(g: "sp.csr_matrix", hoods: np.ndarray, cols: np.ndarray, lams: list[float]) -> np.ndarray:
    """Ridge weights of columns `cols` on their neighbourhoods, (G[N,N] + lam I)^-1 G[N, j], per lambda."""
    union, pos = np.unique(hoods, return_inverse=True)
    pos = pos.reshape(hoods.shape)
    block = g[union][:, np.concatenate([union, cols])].toarray()
    m, k = len(union), hoods.shape[1]
    flat = (pos * block.shape[1])[:, :, None] + pos[:, None, :]
    lhs = np.take(block, flat).astype(np.float64)  # (batch, K, K) = G[N_j, N_j]
    rhs = block[pos, m + np.arange(len(cols))[:, None]].astype(np.float64)  # (batch, K) = G[N_j, j]
    return _ridge_solves(lhs, rhs, lams)


def _ridge_solves(lhs: np.ndarray, rhs: np.ndarray, lams: list[float]) -> np.ndarray:
    """(G_N + lam I) b = g per matrix and lambda: LAPACK Cholesky (potrf/potrs), ~2x cheaper than LU;
    G_N + lam I is positive definite for lam > 0 (min-norm least squares if rounding says otherwise)."""
    from scipy.linalg import lapack

    n, k = rhs.shape
    out = np.empty((len(lams), n, k), dtype=np.float32)
    diag = np.arange(k)
    for c in range(n):
        for i, lam in enumerate(lams):
            a = lhs[c].copy()
            a[diag, diag] += lam
            chol, info = lapack.dpotrf(a, lower=1, clean=0)
            if info == 0:
                out[i, c] = lapack.dpotrs(chol, rhs[c], lower=1)[0]
            else:  # potrf leaves `a` untouched (overwrite_a=0)
                out[i, c] = np.linalg.lstsq(a, rhs[c], rcond=None)[0]
    return out


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
