"""Candidate items and their features for one (basket, customer, time) query.

Candidates: the base model's best `n_base` items plus up to `n_history` items of the customer's
past baskets (most recent first). Features say how the basket model ranks the item and how this
customer bought it before (how often, how recently, in baskets like this one); the learned
reranker (graphassoc/users/rerank.py) weighs them. Cost per query: O(history + candidates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphassoc.users.history import UserHistory

FEATURES = ("base_z", "base_log_rank", "in_history", "share", "share_recent", "count_log", "baskets_since",
            "days_since", "similar_share", "user_baskets_log", "item_pop_log", "neighbour_z")
DAY_US = 86_400 * 1_000_000


@dataclass
class Candidates:
    items: np.ndarray  # (m,) item indices
    features: np.ndarray  # (m, len(FEATURES)) float32


def history_stats(history: UserHistory, rows: np.ndarray, query: np.ndarray, n_items: int) -> dict[str, np.ndarray]:
    """Per item of the customer's past baskets: counts, recency, and overlap with the current basket."""
    sizes = history.item_ptr[rows + 1] - history.item_ptr[rows]
    flat = np.concatenate([history.basket(r) for r in rows])
    age = np.repeat(np.arange(len(rows) - 1, -1, -1), sizes)  # 0 = the newest past basket
    when = np.repeat(history.times[rows], sizes)
    overlap = np.asarray([np.isin(history.basket(r), query).sum() for r in rows], dtype=np.float64)
    sim = overlap / np.sqrt(np.maximum(sizes, 1) * max(len(query), 1))
    items, inverse = np.unique(flat, return_inverse=True)
    recent = 0.7 ** age
    return {
        "items": items,
        "count": np.bincount(inverse, minlength=len(items)).astype(np.float64),
        "recent": np.bincount(inverse, weights=recent, minlength=len(items)) / recent_total(len(rows)),
        "since": np.minimum.reduceat(age[np.argsort(inverse, kind="stable")],
                                     np.r_[0, np.cumsum(np.bincount(inverse))[:-1]]).astype(np.float64),
        "last": np.maximum.reduceat(when[np.argsort(inverse, kind="stable")],
                                    np.r_[0, np.cumsum(np.bincount(inverse))[:-1]]),
        "similar": np.bincount(inverse, weights=np.repeat(sim, sizes), minlength=len(items)) / max(sim.sum(), 1e-9),
    }


def recent_total(n: int) -> float:
    return float((0.7 ** np.arange(n)).sum())


def candidates(history: UserHistory, rows: np.ndarray, query: np.ndarray, base_z: np.ndarray,
               neighbour_z: np.ndarray | None, popularity: np.ndarray, now: int, n_base: int = 50,
               n_history: int = 200) -> Candidates:
    """Candidates and features of one query; base_z is the z-scored base row (query items at -inf)."""
    n_items = len(base_z)
    finite = np.where(np.isfinite(base_z), base_z, -1e9)
    top = np.argpartition(-finite, min(n_base, n_items - 1))[:n_base]
    stats = history_stats(history, rows, query, n_items) if len(rows) else None
    hist_items = np.zeros(0, dtype=np.int64)
    if stats is not None:
        keep = np.argsort(stats["since"], kind="stable")[:n_history]
        stats = {k: v[keep] for k, v in stats.items()}
        hist_items = stats["items"]
    items = np.setdiff1d(np.union1d(top, hist_items), query)
    m = len(items)
    feats = np.zeros((m, len(FEATURES)), dtype=np.float32)
    rank = np.empty(n_items, dtype=np.float64)
    rank[np.argsort(-finite, kind="stable")] = np.arange(1, n_items + 1)
    feats[:, 0] = finite[items]
    feats[:, 1] = np.log(rank[items])
    feats[:, 6] = feats[:, 7] = -1.0  # never bought by this customer
    if stats is not None:
        pos = np.searchsorted(stats["items"], items)
        found = (pos < len(stats["items"])) & (stats["items"][np.minimum(pos, len(stats["items"]) - 1)] == items)
        p = pos[found]
        feats[found, 2] = 1.0
        feats[found, 3] = stats["count"][p] / len(rows)
        feats[found, 4] = stats["recent"][p]
        feats[found, 5] = np.log1p(stats["count"][p])
        feats[found, 6] = stats["since"][p]
        feats[found, 7] = (now - stats["last"][p]) / DAY_US if now < np.iinfo(np.int64).max else 0.0
        feats[found, 8] = stats["similar"][p]
        feats[:, 9] = np.log1p(len(rows))
    feats[:, 10] = np.log1p(popularity[items])
    if neighbour_z is not None:
        feats[:, 11] = neighbour_z[items]
    return Candidates(items, feats)
