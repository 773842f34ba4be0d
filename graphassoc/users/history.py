"""Each customer's baskets in time order, and the repeat vectors personal scoring reads from them.

Memory is O(basket lines): a flat array of item indices per basket (CSR layout), baskets grouped
by user and sorted by time. Reading one customer's history costs O(that history), never a pass
over all users or a dense users x items matrix (shops have millions of customers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.errors import DataError

NO_TIME = np.iinfo(np.int64).max  # "now": every basket of the customer is history
# Personal scoring reads a customer's newest RECENT_BASKETS baskets before the query, so a query
# costs O(a bounded history) even for an account with hundreds of thousands of baskets (a B2B
# buyer, a shared "guest" id). At the tuned recency decay of 0.9 a basket 500 back weighs 1e-23;
# the full UCI data's busiest customer has 206 baskets, so nothing changes there.
RECENT_BASKETS = 500


@dataclass
class UserHistory:
    user_index: dict[str, int]
    user_start: np.ndarray  # (n_users + 1,) offsets into the basket rows
    times: np.ndarray  # (n_baskets,) int64 microseconds, grouped by user, ascending within a user
    item_ptr: np.ndarray  # (n_baskets + 1,) offsets into items
    items: np.ndarray  # flat int64 item indices
    n_items: int

    @classmethod
    def from_baskets(cls, baskets: pl.DataFrame, item_index: Mapping[str, int]) -> "UserHistory":
        """Every basket with a user id (all splits: callers cut by time with `before`)."""
        if "user_id" not in baskets.columns or baskets["user_id"].null_count() == baskets.height:
            raise DataError("this run has no user ids (baskets.parquet's user_id is empty); rebuild it from "
                            "transactions with a user column (data.columns.user_id=NAME, or a preset that maps one)")
        known = (baskets.filter(pl.col("user_id").is_not_null())
                 .with_columns(pl.col("timestamp").cast(pl.Int64).fill_null(0).alias("_t"))
                 .sort(["user_id", "_t", "basket_id"]))
        users = known["user_id"].to_numpy()
        first = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if len(users) else np.zeros(0, dtype=np.int64)
        rows = [np.unique([item_index[i] for i in basket if i in item_index]).astype(np.int64)
                for basket in known["items"].to_list()]
        item_ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        item_ptr[1:] = np.cumsum([len(r) for r in rows])
        return cls({str(users[i]): n for n, i in enumerate(first)}, np.r_[first, len(users)].astype(np.int64),
                   known["_t"].to_numpy().astype(np.int64), item_ptr,
                   np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64), len(item_index))

    @property
    def latest(self) -> int:
        """Time of the newest basket (microseconds): "now" for a query with no time of its own."""
        return int(self.times.max()) if len(self.times) else 0

    def __contains__(self, user_id: object) -> bool:
        return str(user_id) in self.user_index

    def _span(self, user_id: str | None, before: int) -> tuple[int, int]:
        u = self.user_index.get(str(user_id)) if user_id is not None else None
        if u is None:
            return 0, 0
        lo, hi = int(self.user_start[u]), int(self.user_start[u + 1])
        return lo, lo + int(np.searchsorted(self.times[lo:hi], before, side="left"))

    def count(self, user_id: str | None, before: int = NO_TIME) -> int:
        """How many baskets the customer has strictly before `before` (microseconds)."""
        lo, cut = self._span(user_id, before)
        return cut - lo

    def rows(self, user_id: str | None, before: int = NO_TIME, recent: int | None = None) -> np.ndarray:
        """Basket rows of the customer strictly before `before` (microseconds), oldest first; with
        `recent`, only the newest that many."""
        lo, cut = self._span(user_id, before)
        return np.arange(max(lo, cut - recent) if recent else lo, cut, dtype=np.int64)

    def basket(self, row: int) -> np.ndarray:
        return self.items[self.item_ptr[row]:self.item_ptr[row + 1]]

    def repeat_matrix(self, users: Sequence[str | None], before: Sequence[int], decay: float,
                      normalise: bool = True) -> sp.csr_matrix:
        """(n_queries, n_items): sum over past baskets of decay^(baskets since) for each item.

        TIFU-KNN's time-decayed repeat vector (group size 1): the newest past basket weighs 1, the
        one before it `decay`, ... With normalise, divided by the total weight, so it is the
        recency-weighted share of the customer's baskets holding the item (in [0, 1]); with decay 1
        and no normalising it is the plain count of baskets holding the item.
        """
        data, cols, indptr = [], [], [0]
        for user, t in zip(users, before):
            rows = self.rows(user, t)
            if len(rows):
                weights = decay ** np.arange(len(rows) - 1, -1, -1, dtype=np.float64)
                if normalise:
                    weights /= weights.sum()
                sizes = self.item_ptr[rows + 1] - self.item_ptr[rows]
                idx = np.concatenate([self.basket(r) for r in rows])
                vec = np.bincount(idx, weights=np.repeat(weights, sizes), minlength=self.n_items)
                nz = np.flatnonzero(vec)
                cols.append(nz)
                data.append(vec[nz])
            indptr.append(indptr[-1] + (len(cols[-1]) if len(rows) else 0))
        return sp.csr_matrix((np.concatenate(data).astype(np.float32) if data else np.zeros(0, np.float32),
                              np.concatenate(cols) if cols else np.zeros(0, np.int64), np.asarray(indptr)),
                             shape=(len(users), self.n_items))

    def rebuy_rates(self, before: int, prior: float = 5.0) -> np.ndarray:
        """(n_items,) how often an item is bought again by a customer who bought it: over the baskets
        strictly before `before`, the later baskets of its buyers that hold it again, over all their
        later baskets (each customer from their first purchase of it on), shrunk towards the shop-wide
        rate by `prior` pseudo-baskets. Paper towels come back, a lamp does not: the customer's
        history says "bought before", this says whether that means "will buy again". O(history lines).
        """
        n_users = len(self.user_start) - 1
        row_user = np.repeat(np.arange(n_users), np.diff(self.user_start))
        keep = self.times < before
        # A customer's rows are contiguous and time-ordered, so the kept ones are a prefix of each customer's.
        per_user = np.bincount(row_user[keep], minlength=n_users)
        pos = np.arange(len(row_user)) - self.user_start[row_user]  # position among the customer's baskets
        sizes = np.diff(self.item_ptr)
        kept_lines = np.repeat(keep, sizes)
        line_row = np.repeat(np.arange(len(row_user)), sizes)[kept_lines]
        line_user, line_pos = row_user[line_row], pos[line_row]
        items = self.items[kept_lines]
        # First line of each (customer, item) pair: lines are in customer then time order.
        key = line_user * self.n_items + items
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        again = np.bincount(items[first], weights=counts - 1, minlength=self.n_items)
        chances = np.bincount(items[first], weights=per_user[line_user[first]] - line_pos[first] - 1,
                              minlength=self.n_items)
        overall = again.sum() / max(chances.sum(), 1.0)
        return (again + prior * overall) / (chances + prior)


def cut_after(baskets: pl.DataFrame) -> int:
    """The first time (microseconds) after every basket of `baskets`: history before it is theirs."""
    return int(baskets["timestamp"].cast(pl.Int64).max() or 0) + 1


def to_micros(value: datetime | str | None) -> int:
    """A timestamp as polars' microseconds; None = now (all history)."""
    if value is None:
        return NO_TIME
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int(pl.Series([when]).cast(pl.Datetime("us")).cast(pl.Int64)[0])


def query_users(baskets: pl.DataFrame, basket_ids: Sequence[str]) -> tuple[list[str | None], np.ndarray]:
    """User id and time (microseconds) of each query basket, in the given order."""
    lookup = (baskets.select(pl.col("basket_id").cast(pl.Utf8), "user_id",
                             pl.col("timestamp").cast(pl.Int64).fill_null(NO_TIME).alias("_t")))
    order = pl.DataFrame({"basket_id": list(basket_ids)}).join(lookup, on="basket_id", how="left", maintain_order="left")
    return order["user_id"].to_list(), order["_t"].fill_null(NO_TIME).to_numpy().astype(np.int64)
