"""Candidate items and their features for one (basket, customer, time) query.

Candidates: the base model's best `n_base` items plus up to `n_history` items of the customer's
past baskets (most recent first), from users/signals.py's past_items. Features say how the basket model ranks the item and how this
customer bought it before (how often, how recently, in baskets like this one); the learned
reranker (graphassoc/users/rerank.py) weighs them. Cost per query: O(history + candidates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphassoc.users.history import UserHistory
from graphassoc.users.signals import past_items

FEATURES = ("base_z", "base_log_rank", "in_history", "share", "share_recent", "count_log", "baskets_since",
            "days_since", "similar_share", "user_baskets_log", "item_pop_log", "neighbour_z")
DAY_US = 86_400 * 1_000_000
RECENT_DECAY = 0.7  # "share_recent": the customer's past baskets weighed 1, 0.7, 0.49, ... from the newest


@dataclass
class Candidates:
    items: np.ndarray  # (m,) item indices
    features: np.ndarray  # (m, len(FEATURES)) float32


def candidates(history: UserHistory, rows: np.ndarray, query: np.ndarray, base_z: np.ndarray,
               neighbour_z: np.ndarray | None, popularity: np.ndarray, now: int, n_base: int = 50,
               n_history: int = 200) -> Candidates:
    """Candidates and features of one query; base_z is the z-scored base row (query items at -inf)."""
    n_items = len(base_z)
    finite = np.where(np.isfinite(base_z), base_z, -1e9)
    top = np.argpartition(-finite, min(n_base, n_items - 1))[:n_base]
    past = past_items(history, rows, query, [RECENT_DECAY]) if len(rows) else None
    hist_items = np.zeros(0, dtype=np.int64)
    if past is not None:
        # The n_history most recently bought, back in item order (the lookup below bisects it).
        keep = np.sort(np.argsort(past.since, kind="stable")[:n_history])
        stats = {"items": past.items[keep], "count": past.count[keep], "recent": past.repeat[RECENT_DECAY][keep],
                 "since": past.since[keep], "last": past.last[keep], "similar": past.similar[keep]}
        hist_items = stats["items"]
    items = np.setdiff1d(np.union1d(top, hist_items), query)
    m = len(items)
    feats = np.zeros((m, len(FEATURES)), dtype=np.float32)
    rank = np.empty(n_items, dtype=np.float64)
    rank[np.argsort(-finite, kind="stable")] = np.arange(1, n_items + 1)
    feats[:, 0] = finite[items]
    feats[:, 1] = np.log(rank[items])
    feats[:, 6] = feats[:, 7] = -1.0  # never bought by this customer
    if past is not None and len(hist_items):  # a customer whose past items are all in the query has none left
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
    if len(rows):
        feats[:, 9] = np.log1p(len(rows))
    feats[:, 10] = np.log1p(popularity[items])
    if neighbour_z is not None:
        feats[:, 11] = neighbour_z[items]
    return Candidates(items, feats)
