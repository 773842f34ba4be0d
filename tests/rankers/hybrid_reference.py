"""The hybrid ranker's validation grid recomputed by brute force, for tests that check its choice."""

from __future__ import annotations

import numpy as np


def zscore(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=1, keepdims=True)) / np.maximum(scores.std(axis=1, keepdims=True), 1e-9)


def max_cosine(emb: np.ndarray, queries: list[np.ndarray]) -> np.ndarray:
    """The text ranker's definition: score_j = max over query items q of cos(q, j)."""
    similarity = emb @ emb.T
    return np.stack([similarity[q].max(axis=0) for q in queries])


def hybrid_grid(popularity: np.ndarray, queries: list[np.ndarray], targets: np.ndarray, evidence: np.ndarray,
                model: np.ndarray) -> dict[tuple[float, float], float]:
    """HR@10 of every (tau, beta) of the hybrid's grid: alpha_j = pop_j / (pop_j + tau), score =
    alpha * z(evidence) + (1 - alpha) * beta * z(model), query items last, ties by popularity then
    index, each query fully sorted. Float32 throughout, as the ranker computes."""
    from graphassoc.rankers.hybrid import HYBRID_BETAS, HYBRID_TAUS

    pop = popularity.astype(np.float32)
    z_e, z_m = zscore(evidence.astype(np.float32)), zscore(model.astype(np.float32))
    tie = np.lexsort((np.arange(len(pop)), -pop))  # the tie-break order: popularity desc, then index
    out = {}
    for tau in HYBRID_TAUS:
        if tau == 0:
            alpha = (pop > 0).astype(np.float32)
        else:
            alpha = np.zeros_like(pop) if tau == float("inf") else pop / (pop + np.float32(tau))
        for beta in HYBRID_BETAS:
            hits = 0
            for row, (query, target) in enumerate(zip(queries, targets)):
                mixed = alpha * z_e[row] + (1 - alpha) * beta * z_m[row]
                mixed[query] = -np.inf
                order = tie[np.argsort(-mixed[tie], kind="stable")]
                hits += int(target in order[:10])
            out[(tau, beta)] = hits / len(queries)
    return out
