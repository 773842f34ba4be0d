"""Ad audiences: the customers most likely to buy an item next, and how well that is predicted.

score_u(item) = R_u . W[:, item] + repeat_w * R_u[item]

R is the customers x items sparse matrix of recency-decayed basket counts (nnz = history lines; not
divided by the customer's basket count: a customer who bought the item in 30 of 50 baskets is a
likelier buyer than a one-off customer who bought it once),
W the EASE item-item weights of the evidence window: "bought what goes with it" plus "bought it
before". One audience costs one sparse matrix-vector product, O(history lines), over every
customer; no dense customers x items matrix. repeat_w is tuned on the validation period.

Evaluation (in compare's report): for every item bought in the test period by customers with
history before the cut, recall@N of those buyers among the N best-scored customers, against "most
active customers" (most baskets) and a plain co-purchase baseline (R_bin . P(item | j)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.errors import DataError
from graphassoc.rankers.context import RankContext
from graphassoc.rankers.ease import EaseRanker
from graphassoc.rankers.base import context_gram
from graphassoc.threads import thread_map
from graphassoc.users.config import UsersConfig
from graphassoc.users.history import UserHistory, cut_after

REPEAT_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 5.0)


@dataclass
class AudienceModel:
    users: list[str]  # row -> user id
    repeat: sp.csr_matrix  # users x items, decayed repeat shares
    activity: np.ndarray  # baskets per user
    ease: np.ndarray | sp.spmatrix  # item x item EASE weights (sparse at size)
    cond: sp.csc_matrix  # P(j | q) co-purchase, for the baseline
    repeat_w: float = 1.0

    def __post_init__(self) -> None:
        # Item-major copies: a block of items is a row slice (O(its entries)) and its scores come out as
        # items x customers rows, contiguous for the top-N per item.
        self.repeat_t = sp.csr_matrix(self.repeat.T)
        self.bought_t = self.repeat_t.copy()  # the co-purchase baseline counts customers, not recency
        self.bought_t.data[:] = 1.0
        self.ease_t = sp.csr_matrix(self.ease.T) if sp.issparse(self.ease) else np.ascontiguousarray(self.ease.T)
        self.cond_t = sp.csr_matrix(self.cond.T)

    @classmethod
    def fit(cls, ctx: RankContext, history: UserHistory, decay: float = 0.9) -> "AudienceModel":
        """Customers' history up to the context's cut (the evidence window), EASE on the same window."""
        cut = cut_after(ctx.evidence_baskets)
        users = sorted(history.user_index, key=history.user_index.__getitem__)
        repeat = history.repeat_matrix(users, [cut] * len(users), decay, normalise=False)
        activity = np.asarray([history.count(u, cut) for u in users], dtype=np.float64)
        keep = activity > 0
        gram = context_gram(ctx)
        pop = np.maximum(gram.diagonal(), 1.0)
        cond = sp.csc_matrix(sp.diags(1.0 / pop) @ sp.csr_matrix(gram))  # row q: P(j | q), sparse at any size
        return cls([u for u, k in zip(users, keep) if k], repeat[keep], activity[keep], EaseRanker().fit(ctx).weights, cond)

    def parts(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(len(items) x customers): "bought what goes with it" (R . W[:, item], W's diagonal left out)
        and "bought it before" (R[:, item]), for a block of items at once."""
        return _product(self.ease_t, items, self.repeat_t), self.repeat_t[items].toarray()

    def scores_many(self, items: np.ndarray, method: str = "audience") -> np.ndarray:
        """(len(items) x customers) scores of a block of items."""
        items = np.asarray(items, dtype=np.int64)
        if method == "most-active":
            return np.repeat(self.activity[None, :], len(items), axis=0)
        if method == "co-purchase":
            return _product(self.cond_t, items, self.bought_t)
        goes_with, before = self.parts(items)
        return goes_with + self.repeat_w * before

    def scores(self, item: int, method: str = "audience") -> np.ndarray:
        return self.scores_many(np.array([item]), method)[0]

    def top(self, item: int, n: int, method: str = "audience") -> tuple[np.ndarray, np.ndarray]:
        s = self.scores(item, method)
        n = min(n, len(s))
        best = np.argpartition(-s, n - 1)[:n] if n else np.zeros(0, dtype=np.int64)
        best = best[np.lexsort((best, -s[best]))]
        return best, s[best]


def _product(weights_t: np.ndarray | sp.csr_matrix, items: np.ndarray, history_t: sp.csr_matrix) -> np.ndarray:
    """(len(items) x customers) = W[:, items]^T . R^T with W[item, item] left out (an item does not
    recommend itself), from W^T's rows; sparse x sparse at size, so the cost follows the history lines."""
    rows = weights_t[items]
    at = np.arange(len(items))
    if sp.issparse(rows):
        rows = sp.csr_matrix(rows, dtype=np.float64)
        rows = rows - sp.csr_matrix((np.asarray(rows[at, items]).ravel(), (at, items)), shape=rows.shape)
        return (rows @ history_t).toarray()
    rows = np.array(rows, dtype=np.float64)
    rows[at, items] = 0.0
    return np.asarray(rows @ history_t)


def buyers_after(baskets: pl.DataFrame, split: str, model: AudienceModel, item_index: dict[str, int]) -> dict[int, np.ndarray]:
    """Item -> rows of the model's customers who bought it in `split` (customers with history only)."""
    row_of = {u: i for i, u in enumerate(model.users)}
    pairs = (baskets.filter(pl.col("split") == split, pl.col("user_id").is_not_null())
             .select("user_id", "items").explode("items").unique())
    out: dict[int, set[int]] = {}
    for user, item in zip(pairs["user_id"].to_list(), pairs["items"].to_list()):
        if user in row_of and item in item_index:
            out.setdefault(item_index[item], set()).add(row_of[user])
    return {i: np.fromiter(s, dtype=np.int64) for i, s in out.items()}


AUDIENCE_BLOCK = 256  # items scored at once: 256 x customers float64 (58k customers at x16 UCI: 120 MB)


def recalls(model: AudienceModel, buyers: dict[int, np.ndarray], n: int, method: str,
            repeat_weights: tuple[float, ...] | None = None) -> list[float]:
    """Mean recall@n of each item's buyers among its n best-scored customers, per repeat weight of the
    audience method (one pass over the items for all of them; one value for the baselines). Items in
    blocks on threads: one column slice and sparse product per item and weight took 8 minutes at x16."""
    weights = repeat_weights if method == "audience" and repeat_weights else (model.repeat_w,)
    items = np.fromiter(buyers, dtype=np.int64)
    if len(items) == 0:
        return [float("nan")] * len(weights)
    n = min(n, len(model.users))

    def recall_sum(block: np.ndarray, s: np.ndarray) -> float:
        top = np.argpartition(-s, n - 1, axis=1)[:, :n]
        return float(sum(np.isin(buyers[int(i)], top[k]).mean() for k, i in enumerate(block)))

    def block_sums(lo: int) -> list[float]:
        block = items[lo:lo + AUDIENCE_BLOCK]
        if method != "audience":
            return [recall_sum(block, model.scores_many(block, method))]
        goes_with, before = model.parts(block)
        return [recall_sum(block, goes_with + w * before) for w in weights]

    if method == "most-active":  # the same customers for every item
        top = set(np.argpartition(-model.activity, n - 1)[:n].tolist())
        return [float(np.mean([np.isin(b, list(top)).mean() for b in buyers.values()]))]
    sums = np.sum(thread_map(block_sums, range(0, len(items), AUDIENCE_BLOCK)), axis=0)
    return [float(total / len(items)) for total in sums]


def recall_at(model: AudienceModel, buyers: dict[int, np.ndarray], n: int, method: str) -> float:
    return recalls(model, buyers, n, method)[0]


def sample_items(buyers: dict[int, np.ndarray], cap: int | None, seed: int) -> dict[int, np.ndarray]:
    """At most `cap` of the items (a seeded uniform sample, in item order), each with all its buyers."""
    if cap is None or len(buyers) <= cap:
        return buyers
    keep = np.sort(np.random.default_rng(seed).choice(np.fromiter(sorted(buyers), dtype=np.int64), cap, replace=False))
    return {int(i): buyers[int(i)] for i in keep}


def evaluate_audience(ctx: RankContext, history: UserHistory, cfg: UsersConfig) -> dict[str, Any]:
    """repeat_w tuned on valid (history = train), then recall@N on test for the three methods."""
    valid = ctx.validation()
    v_model = AudienceModel.fit(valid, history)
    v_buyers = sample_items(buyers_after(valid.baskets, "valid", v_model, valid.item_index), cfg.audience_items, ctx.seed)
    tuned = dict(zip(REPEAT_WEIGHTS, recalls(v_model, v_buyers, cfg.audience_k, "audience", REPEAT_WEIGHTS)))
    model = AudienceModel.fit(ctx, history)
    model.repeat_w = max(tuned, key=lambda w: tuned[w])
    bought = buyers_after(ctx.baskets, "test", model, ctx.item_index)
    buyers = sample_items(bought, cfg.audience_items, ctx.seed)
    return {"n": cfg.audience_k, "items": len(buyers), "items_bought": len(bought), "candidate_customers": len(model.users),
            "repeat_w": model.repeat_w, "valid_recall": {str(k): round(v, 4) for k, v in tuned.items()},
            "recall@n": {m: round(recall_at(model, buyers, cfg.audience_k, m), 4)
                         for m in ("audience", "co-purchase", "most-active")}}


def audience(ctx: RankContext, item_id: str, n: int) -> pl.DataFrame:
    """The n customers most likely to buy item_id next (salted keys, never raw ids), with evidence."""
    from graphassoc.users.ids import hash_user, run_salt

    if item_id not in ctx.item_index:
        raise DataError(f"unknown item id '{item_id}' (not in {ctx.run_dir / 'items.parquet'}); "
                        f"find ids with `graphassoc recommend {ctx.run_dir} --text \"...\"`")
    history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    model = AudienceModel.fit(ctx, history)
    item = ctx.item_index[item_id]
    rows, scores = model.top(item, n)
    salt = run_salt(ctx.run_dir)
    bought = np.asarray(model.repeat[rows, item].todense()).ravel()
    return pl.DataFrame({"rank": np.arange(1, len(rows) + 1), "user_key": [hash_user(salt, model.users[r]) for r in rows],
                         "score": scores.round(5), "bought_before": bought.round(3),
                         "baskets": model.activity[rows].astype(np.int64)})
