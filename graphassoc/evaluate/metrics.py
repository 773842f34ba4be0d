"""Ranking metrics, strata, bootstrap intervals and paired differences.

With one hidden item per query, Recall@K equals HR@K (one relevant item: found or not); both are
reported because readers look for both names. MRR is the full reciprocal rank (no cut-off).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

KS = (5, 10, 20)
COLD_MAX, SPARSE_MAX = 0, 5  # cold: 0 co-occurrences, sparse: 1-5, warm: > 5


def per_query(ranks: np.ndarray, ks: tuple[int, ...] = KS) -> dict[str, np.ndarray]:
    """Each metric per query (float64 arrays), so means, intervals and paired differences share them."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        hit = (ranks <= k).astype(np.float64)
        out[f"hr@{k}"] = hit
        out[f"recall@{k}"] = hit.copy()
        out[f"ndcg@{k}"] = np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0)
    out["mrr"] = 1.0 / ranks
    return out


def per_query_multi(ranks: list[np.ndarray], ks: tuple[int, ...] = KS) -> dict[str, np.ndarray]:
    """Item-to-basket metrics with several hidden items per query: HR@K = at least one found,
    Recall@K = share of the hidden items found, NDCG@K with the ideal DCG of min(|T|, K) hits,
    MRR = reciprocal rank of the first hidden item found."""
    out: dict[str, np.ndarray] = {}
    for k in ks:
        discounts = 1.0 / np.log2(np.arange(2, k + 2))
        out[f"hr@{k}"] = np.array([float((r <= k).any()) for r in ranks])
        out[f"recall@{k}"] = np.array([(r <= k).sum() / len(r) for r in ranks])
        out[f"ndcg@{k}"] = np.array([(1.0 / np.log2(r[r <= k] + 1.0)).sum() / discounts[:min(len(r), k)].sum()
                                     for r in ranks])
    out["mrr"] = np.array([1.0 / r.min() for r in ranks])
    return out


def coverage(top: np.ndarray, n_items: int, k: int = 10) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    if top.size == 0 or n_items == 0:
        return 0.0
    return float(len(np.unique(top[:, :k])) / n_items)


def popularity_bias(top: np.ndarray, popularity: np.ndarray, k: int = 10) -> dict[str, float]:
    """How popular the recommended items are: mean history popularity of the top-k items, and their
    mean popularity percentile in the catalogue (0 = least popular item, 1 = most popular)."""
    if top.size == 0:
        return {"mean_popularity@10": 0.0, "popularity_percentile@10": 0.0}
    pop = np.asarray(popularity, dtype=np.float64)
    # Percentile with ties averaged, so the many items of equal (zero) popularity share one value.
    order = np.argsort(pop, kind="stable")
    ranks = np.empty(len(pop))
    ranks[order] = np.arange(len(pop))
    _, inverse = np.unique(pop, return_inverse=True)
    mean_rank = np.bincount(inverse, weights=ranks) / np.bincount(inverse)
    percentile = mean_rank[inverse] / max(len(pop) - 1, 1)
    recs = top[:, :k]
    return {"mean_popularity@10": float(pop[recs].mean()), "popularity_percentile@10": float(percentile[recs].mean())}


def strata(cooccurrence: np.ndarray, never_seen: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks over queries: cold / sparse / warm by the target's co-occurrence count with the
    query in the history, plus the target never seen in any history basket (a new product)."""
    c = np.asarray(cooccurrence)
    return {
        "cold": c <= COLD_MAX,
        "sparse": (c > COLD_MAX) & (c <= SPARSE_MAX),
        "warm": c > SPARSE_MAX,
        "never_seen": np.asarray(never_seen, dtype=bool),
    }


def bootstrap_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) resampling counts; the same matrix for every ranker makes the differences paired."""
    if n == 0:
        return np.zeros((n_boot, 0))
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


@dataclass
class Estimate:
    mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high}


def interval(values: np.ndarray, weights: np.ndarray, level: float = 0.95) -> Estimate:
    """Mean with a percentile bootstrap interval (each weights row is one resample of the queries)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    means = weights @ values / len(values)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Estimate(float(values.mean()), float(low), float(high))


def summarize(metrics: Mapping[str, np.ndarray], weights: np.ndarray) -> dict[str, dict[str, float]]:
    return {name: interval(values, weights).as_dict() for name, values in metrics.items()}


def paired_difference(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> dict[str, float | bool]:
    """Mean of a - b over the same queries with its bootstrap interval; `significant` when the
    interval excludes zero."""
    est = interval(np.asarray(a) - np.asarray(b), weights)
    return {**est.as_dict(), "significant": bool(est.low > 0 or est.high < 0)}
