"""The sparse tuning of the personal ranker: its target ranks equal brute-force ranks over the full
catalogue (exact below `keep`), and the signals equal a hand computation."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from graphassoc.evaluate.protocol import exclude_query_items, rank_of_targets
from graphassoc.rankers.ease import EaseRanker
from graphassoc.rankers.hybrid import zscore
from graphassoc.users.history import NO_TIME, UserHistory, query_users, to_micros
from graphassoc.users.personal import NO_PARAMS, PersonalRanker, history_lift
from graphassoc.users.signals import history_signals
from graphassoc.users.tuning import _ascend, coordinate_ascent, tuning_set

from .test_history import INDEX, baskets
from .test_personal import context


def _tuning_inputs(user_run):
    """The user run's context, histories, valid queries with their users and cut times, and a fitted EASE."""
    ctx = context(user_run)
    history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    queries = ctx.queries()
    users, before = query_users(ctx.baskets, queries.basket_ids)
    return ctx, history, queries, users, before, EaseRanker().fit(ctx)


def test_sparse_tuning_ranks_equal_full_catalogue_ranks(user_run):
    ctx, history, queries, users, before, ease = _tuning_inputs(user_run)
    keep = 10
    rates = history.rebuy_rates(NO_TIME)
    tset = tuning_set(lambda block, _sig: zscore(ease.score(block)), history, queries, users, before, [1.0, 0.5],
                      ctx.tiebreak, keep=keep, chunk=7, rates=rates)
    assert tset.signals.has_history().any()
    ranker = PersonalRanker(history, base=ease)
    ranker.rates = rates
    for params in ({}, {"repeat_w": 3.0, "decay": 0.5}, {"similar_w": 5.0, "count_w": 1.0, "gate": 2.0},
                   {"rate_w": 4.0, "fresh_w": 2.0, "recency_days": 30.0, "bought_w": -1.0, "repeat_w": 1.0}):
        ranker.params = {**NO_PARAMS, **params}
        dense = exclude_query_items(ranker.score(queries.query, users, before), queries.query)
        truth = rank_of_targets(dense, queries.target, ctx.tiebreak)
        got = tset.ranks(history_lift(tset.signals, ranker.params))
        exact = truth <= keep
        np.testing.assert_array_equal(got[exact], truth[exact])
        assert (got[~exact] > keep).all()


def test_signals_match_a_hand_computation():
    h = UserHistory.from_baskets(baskets(), INDEX)  # u: [0, 1], [2], [0, 3] (oldest first); v: [0]
    sig = history_signals(h, [np.asarray([1]), np.asarray([3]), np.asarray([1])], ["u", "v", "w"], [NO_TIME] * 3,
                          [1.0, 0.5], rates=np.array([0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_array_equal(sig.indptr, [0, 3, 4, 4])
    np.testing.assert_array_equal(sig.items, [0, 2, 3, 0])  # the query's own item 1 is left out
    np.testing.assert_allclose(sig.repeat[0.5], [1.25 / 1.75, 0.5 / 1.75, 1 / 1.75, 1.0])
    np.testing.assert_allclose(sig.repeat[1.0], [2 / 3, 1 / 3, 1 / 3, 1.0])
    np.testing.assert_allclose(sig.count, [2, 1, 1, 1])
    # query [1]: only the oldest basket [0, 1] overlaps it, so item 0 holds all the "similar" weight.
    np.testing.assert_allclose(sig.similar, [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(sig.qshare, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(sig.rate, [0.1, 0.3, 0.4, 0.1])
    # Days since the item was last bought, to the newest basket of the history (Jan 4) for a query without a time.
    np.testing.assert_allclose(sig.days, [0.0, 1.0, 0.0, 2.0])
    at = history_signals(h, [np.asarray([1])], ["u"], [to_micros(datetime(2024, 1, 4, 12))], [1.0])
    np.testing.assert_allclose(at.days, [0.5, 1.5, 0.5])
    np.testing.assert_array_equal(at.rate, [0, 0, 0])  # no rates given


def test_coordinate_ascent_finds_the_peak_of_a_separable_function():
    grid = {"a": [0.0, 1.0, 2.0, 3.0], "b": [5.0, 6.0, 7.0]}
    params, value = coordinate_ascent(grid, lambda p: -(p["a"] - 2) ** 2 - (p["b"] - 6) ** 2)
    assert params == {"a": 2.0, "b": 6.0} and value == 0.0


def test_restarts_leave_a_ridge_that_one_ascent_cannot():
    # From (0, 0) every single-coordinate move loses, though (2, 2) is better: only another start finds it.
    peaks = {(0.0, 0.0): 0.5, (2.0, 2.0): 1.0, (2.0, 1.0): 0.2, (1.0, 2.0): 0.2}
    grid = {"a": [0.0, 1.0, 2.0], "b": [0.0, 1.0, 2.0]}
    value = lambda p: peaks.get((p["a"], p["b"]), 0.0)  # noqa: E731
    assert coordinate_ascent(grid, value) == ({"a": 0.0, "b": 0.0}, 0.5)
    assert coordinate_ascent(grid, value, restarts=12, seed=1) == ({"a": 2.0, "b": 2.0}, 1.0)
    assert coordinate_ascent(grid, value, restarts=12, seed=1) == coordinate_ascent(grid, value, restarts=12, seed=1)


def test_each_grid_point_is_scored_once_and_the_result_is_unchanged():
    # The same ascent without the memo (every call counted) against the memoised one: equal results, and
    # the memoised one asks for each distinct point once.
    grid = {"a": [0.0, 1.0, 2.0, 3.0], "b": [5.0, 6.0, 7.0], "c": [0.0, 1.0]}
    f = lambda p: -(p["a"] - 2) ** 2 - (p["b"] - 6) ** 2 + 0.1 * p["c"]  # noqa: E731
    calls: list[tuple[float, ...]] = []

    def counted(p: dict[str, float]) -> float:
        calls.append((p["a"], p["b"], p["c"]))
        return f(p)

    assert coordinate_ascent(grid, counted, restarts=5, seed=3) == coordinate_ascent(grid, f, restarts=5, seed=3)
    assert len(calls) == len(set(calls))
    # From one start: the plain ascent re-scores its current point every sweep; the memoised one does not.
    calls.clear()
    plain: list[tuple[float, ...]] = []

    def plain_count(p: dict[str, float]) -> float:
        plain.append((p["a"], p["b"], p["c"]))
        return f(p)

    coordinate_ascent(grid, counted)
    _ascend(grid, plain_count, {name: values[0] for name, values in grid.items()}, 4)
    assert len(calls) == len(set(plain)) < len(plain)


def test_tuning_never_scores_more_than_a_block_at_once(user_run):
    """The only dense array of the tuning is one block x catalogue (memory per block, at any size)."""
    ctx, history, queries, users, before, ease = _tuning_inputs(user_run)
    seen: list[int] = []

    def score(block, _sig):
        seen.append(len(block))
        return zscore(ease.score(block))

    tset = tuning_set(score, history, queries, users, before, [1.0], ctx.tiebreak, keep=5, chunk=4)
    assert max(seen) <= 4 and sum(seen) == len(queries)
    assert tset.other_base.shape == (len(queries), 5)
    assert len(tset.base) == tset.signals.indptr[-1]  # the rest is O(history lines)


def test_signals_read_only_the_newest_recent_baskets(monkeypatch):
    import graphassoc.users.signals as signals

    monkeypatch.setattr(signals, "RECENT_BASKETS", 1)
    h = UserHistory.from_baskets(baskets(), INDEX)  # u: [0, 1], [2], [0, 3] (oldest first)
    sig = signals.history_signals(h, [np.asarray([1])], ["u"], [NO_TIME], [1.0])
    np.testing.assert_array_equal(sig.items, [0, 3])  # from [0, 3] alone
    np.testing.assert_allclose(sig.count, [1, 1])
