"""Leave-one-out basket completion over the full catalogue, query items excluded.

The protocol (GUIDE.md section 4): every basket of the evaluated split with at least two
catalogue items becomes one query; one item, drawn with the seed, is hidden (the target) and the
rest is the query. A ranker scores the whole catalogue; the query's own items get -inf so they
are never recommended. Ties are broken the same way for every ranker: by history popularity
(more popular first), then by item index, so a ranker that leaves many items tied (popularity,
co-occurrence, rules) is judged by one documented rule, not by numpy's sort order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.graph.copurchase import basket_matrix as graph_basket_matrix
from graphassoc.threads import thread_map, workers

ScoreFn = Callable[[list[np.ndarray]], np.ndarray]


@dataclass
class Queries:
    """One leave-one-out query per basket: `query[i]` (sorted item indices) must recall `target[i]`."""

    split: str
    basket_ids: list[str]
    query: list[np.ndarray]
    target: np.ndarray  # int64 item index per query

    def __len__(self) -> int:
        return len(self.query)


@dataclass
class MultiQueries:
    """Item-to-basket queries: one item of a basket (`query[i]`, length 1) must recall the rest."""

    split: str
    basket_ids: list[str]
    query: list[np.ndarray]
    targets: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.query)


def basket_indices(baskets: pl.DataFrame, item_index: Mapping[str, int]) -> list[np.ndarray]:
    """Each basket's items as sorted unique catalogue indices (ids outside the catalogue are dropped)."""
    out = []
    for items in baskets["items"].to_list():
        idx = [item_index[i] for i in (items or []) if i in item_index]
        out.append(np.unique(np.asarray(idx, dtype=np.int64)))
    return out


def ordered(baskets: pl.DataFrame) -> pl.DataFrame:
    """Baskets in a fixed order (time, then id) so the seeded hidden items do not depend on file order."""
    keys = [c for c in ("timestamp", "basket_id") if c in baskets.columns]
    return baskets.sort(keys, nulls_last=True)


def sample_split(baskets: pl.DataFrame, split: str, limit: int | None, seed: int) -> pl.DataFrame:
    """The baskets with `split` cut to `limit` baskets, a seeded uniform sample (all of them when fewer).
    Scoring every query against the catalogue costs baskets x items: at size, a sample of the evaluated
    split bounds it while the other splits (the evidence) stay whole."""
    chosen = pl.col("split") == split
    part = baskets.filter(chosen)
    if limit is None or part.height <= limit:
        return baskets
    return pl.concat([baskets.filter(~chosen), ordered(part).sample(limit, seed=seed)])


def query_baskets(baskets: pl.DataFrame, item_index: Mapping[str, int], split: str) -> list[tuple[str, np.ndarray]]:
    """(basket id, sorted catalogue indices) of every `split` basket with >= 2 catalogue items, in the
    fixed order of `ordered`: the baskets both query tasks draw from, one draw per basket."""
    chosen = ordered(baskets.filter(pl.col("split") == split))
    ids = chosen["basket_id"].cast(pl.Utf8).to_list()
    return [(basket_id, items) for basket_id, items in zip(ids, basket_indices(chosen, item_index)) if len(items) >= 2]


def leave_one_out(baskets: pl.DataFrame, item_index: Mapping[str, int], split: str, seed: int) -> Queries:
    """Queries from every `split` basket with >= 2 catalogue items; the hidden item is drawn with `seed`."""
    rng = np.random.default_rng(seed)
    out_ids, queries, targets = [], [], []
    for basket_id, items in query_baskets(baskets, item_index, split):
        hidden = int(rng.integers(len(items)))
        out_ids.append(basket_id)
        targets.append(items[hidden])
        queries.append(np.delete(items, hidden))
    return Queries(split, out_ids, queries, np.asarray(targets, dtype=np.int64))


def concat_queries(parts: list[Queries]) -> Queries:
    """Several query sets (e.g. hidden-item draws of one split) as one."""
    return Queries(parts[0].split, [b for p in parts for b in p.basket_ids], [q for p in parts for q in p.query],
                   np.concatenate([p.target for p in parts]))


def draws_within(draws: int, cap: int | None, n_queries: int) -> int:
    """Hidden-item draws of a query set (each scores every query against the whole catalogue), at most
    as many as keep the draws' queries within `cap` (None: no cap): a small split is noisy and gets
    all of them, a large one gets one, which is precise already."""
    if cap is None or n_queries == 0:
        return draws
    return max(1, min(draws, cap // n_queries))


def item_to_basket(baskets: pl.DataFrame, item_index: Mapping[str, int], split: str, seed: int) -> MultiQueries:
    """One query per `split` basket with >= 2 catalogue items: a seeded item asks for the others."""
    # A stream of its own, so adding this task never changes the leave-one-out draw.
    rng = np.random.default_rng([seed, 1])
    out_ids, queries, targets = [], [], []
    for basket_id, items in query_baskets(baskets, item_index, split):
        asked = int(rng.integers(len(items)))
        out_ids.append(basket_id)
        queries.append(items[asked:asked + 1])
        targets.append(np.delete(items, asked))
    return MultiQueries(split, out_ids, queries, targets)


def basket_matrix(baskets: pl.DataFrame, item_index: Mapping[str, int], n_items: int) -> sp.csr_matrix:
    """Binary basket x item matrix (float32) of the given baskets: the graph stage's, on a basket table."""
    return graph_basket_matrix(baskets["items"], item_index, n_items)


def query_matrix(queries: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary query x item matrix (float32), the input most rankers multiply with."""
    indptr = np.zeros(len(queries) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(q) for q in queries])
    indices = np.concatenate(list(queries)).astype(np.int64) if len(queries) else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(queries), n_items))


def tiebreak_positions(popularity: np.ndarray) -> np.ndarray:
    """Position of each item in the tie-break order: popularity descending, then index ascending."""
    order = np.lexsort((np.arange(len(popularity)), -np.asarray(popularity)))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    return pos


def exclude_query_items(scores: np.ndarray, queries: Sequence[np.ndarray]) -> np.ndarray:
    """Set the query's own items to -inf (in place) and NaN to -inf, so neither is ever recommended."""
    np.nan_to_num(scores, copy=False, nan=-np.inf)
    rows = np.repeat(np.arange(len(queries)), [len(q) for q in queries])
    if len(rows):
        scores[rows, np.concatenate(list(queries)).astype(np.int64)] = -np.inf
    return scores


def rank_of_targets(scores: np.ndarray, target: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """1-based rank of each target: items scored higher, plus tied items earlier in the tie-break order."""
    rows = np.arange(len(target))
    st = scores[rows, target][:, None]
    higher = (scores > st).sum(axis=1)
    tied_before = ((scores == st) & (pos[None, :] < pos[target][:, None])).sum(axis=1)
    return 1 + higher + tied_before


def top_k(scores: np.ndarray, k: int, pos: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k best items per row, best first, ties broken by `pos` (same order as
    rank_of_targets; None: the lower column first, as a stable argsort).

    Without sorting whole rows (a full sort per query dominated batch recommendation time):
    np.argpartition picks each row's k best and only those are sorted by (score desc, pos asc). A row
    where more items tie at its k-th best score than the k picked is redone exactly from all of them.
    """
    n_rows, n_items = scores.shape
    k = min(k, n_items)
    if k == 0 or n_rows == 0:
        return np.zeros((n_rows, k), dtype=np.int64)
    tie = np.arange(n_items) if pos is None else pos
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    out = np.take_along_axis(part, np.lexsort((tie[part], -vals), axis=1), axis=1).astype(np.int64)
    kth = vals.min(axis=1)
    for row in np.flatnonzero((scores >= kth[:, None]).sum(axis=1) > k):
        cand = np.flatnonzero(scores[row] >= kth[row])
        out[row] = cand[np.lexsort((tie[cand], -scores[row, cand]))[:k]]
    return out


def guard_block(rows: int, n_items: int) -> None:
    """Stop before a block of scores (and the ~3 same-sized temporaries of ranking it) outgrows memory."""
    from graphassoc.memory import check_fits

    check_fits(4.0 * 4 * rows * n_items, f"a block of {rows:,} queries x {n_items:,} items of scores",
               "lower --set evaluate.chunk_size (queries scored at once)")


@dataclass
class Ranking:
    """What the metrics need from a ranker on a query set: the target ranks and the top-k lists."""

    ranks: np.ndarray  # (n,) int64, 1-based
    top: np.ndarray  # (n, k) item indices, best first


def evaluate(score: ScoreFn, queries: Queries, pos: np.ndarray, k: int = 20, chunk: int = 512) -> Ranking:
    """Score the full catalogue for every query in chunks, exclude query items, rank the targets."""
    return evaluate_rows(lambda part: score(queries.query[part]), queries, pos, k, chunk)


def evaluate_rows(score_rows: Callable[[slice], np.ndarray], queries: Queries, pos: np.ndarray, k: int = 20,
                  chunk: int = 512) -> Ranking:
    """evaluate, for scorers that read more than the baskets (e.g. the customer of each query row):
    `score_rows(part)` scores the query rows `part`. Chunks run on a few threads (graphassoc/threads.py):
    ranking them is numpy work that releases the GIL."""
    guard_block(workers() * min(chunk, len(queries)), len(pos))

    def block(start: int) -> tuple[np.ndarray, np.ndarray]:
        part = slice(start, start + chunk)
        batch, target = queries.query[part], queries.target[part]
        scores = np.array(score_rows(part), dtype=np.float32, copy=True)
        if scores.shape != (len(batch), len(pos)):
            raise ValueError(f"ranker returned scores of shape {scores.shape}, expected {(len(batch), len(pos))}")
        exclude_query_items(scores, batch)
        return rank_of_targets(scores, target, pos), top_k(scores, k, pos)

    parts = thread_map(block, range(0, len(queries), chunk))
    if not parts:
        return Ranking(np.zeros(0, dtype=np.int64), np.zeros((0, k), dtype=np.int64))
    ranks, tops = zip(*parts)
    return Ranking(np.concatenate(ranks).astype(np.int64), np.concatenate(tops).astype(np.int64))


def evaluate_multi(score: ScoreFn, queries: MultiQueries, pos: np.ndarray, chunk: int = 256) -> list[np.ndarray]:
    """Rank of every target of every query (1-based, same tie-break), for item-to-basket metrics."""
    guard_block(2 * workers() * min(chunk, len(queries)), len(pos))  # the scores and their sorted copy

    def block(start: int) -> list[np.ndarray]:
        batch = queries.query[start:start + chunk]
        scores = exclude_query_items(np.array(score(batch), dtype=np.float32, copy=True), batch)
        return ranks_of_many_targets(scores, queries.targets[start:start + chunk], pos)

    return [ranks for part in thread_map(block, range(0, len(queries), chunk)) for ranks in part]


def ranks_of_many_targets(scores: np.ndarray, targets: Sequence[np.ndarray], pos: np.ndarray) -> list[np.ndarray]:
    """rank_of_targets for several targets per row, without a pass over the row per target.

    A basket's single item asks for its ~20 others: per target, rank_of_targets' three passes over
    the catalogue cost 20x what one sort of the row does (x16 UCI: 62k items, 23k queries, 4 minutes
    a ranker). Each row is sorted once; a target's higher-scored items are a binary search. Targets
    whose score other items share (e.g. the zeros of a co-occurrence row) take one pass per tied
    value, to find the tied items ahead of each in the tie-break order.
    """
    ordered = np.sort(scores, axis=1)
    n = scores.shape[1]
    out = []
    for row, items in enumerate(targets):
        items = np.asarray(items, dtype=np.int64)
        own = scores[row, items]
        above = np.searchsorted(ordered[row], own, side="right")
        ranks = 1 + (n - above)
        tied = np.flatnonzero(above - np.searchsorted(ordered[row], own, side="left") > 1)
        for value in np.unique(own[tied]):  # one pass per tied score, shared by its targets
            ahead = np.sort(pos[scores[row] == value])
            these = tied[own[tied] == value]
            ranks[these] += np.searchsorted(ahead, pos[items[these]])
        out.append(ranks.astype(np.int64))
    return out


def history_popularity(history: sp.csr_matrix) -> np.ndarray:
    """Number of history baskets holding each item."""
    return np.asarray(history.sum(axis=0)).ravel().astype(np.int64)


def target_cooccurrence(history: sp.csr_matrix, queries: Queries, block: int = 1024) -> np.ndarray:
    """Per query: how many history baskets hold the target together with at least one query item.

    This is the count the strata use (cold 0, sparse 1-5, warm > 5): the evidence a co-occurrence
    method has for this exact completion, not merely the target's popularity. Computed in blocks of
    queries: each (query, basket holding its target) pair is one row, kept when it meets the query.
    """
    history = sp.csr_matrix(history)
    by_item = history.tocsc()
    holders = np.diff(by_item.indptr)
    out = np.zeros(len(queries), dtype=np.int64)
    for start in range(0, len(queries), block):
        target = queries.target[start:start + block]
        lens = holders[target]
        pair_q = np.repeat(np.arange(len(target)), lens)
        first = np.repeat(by_item.indptr[target] - (np.cumsum(lens) - lens), lens)
        baskets = by_item.indices[first + np.arange(len(pair_q))]
        asked = query_matrix(queries.query[start:start + block], history.shape[1])[pair_q]
        met = np.diff(history[baskets].multiply(asked).tocsr().indptr) > 0
        out[start:start + len(target)] = np.bincount(pair_q[met], minlength=len(target))
    return out
