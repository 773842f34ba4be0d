"""Personal rankers: no history -> exactly the base ranking; history boosts re-bought items; no leakage."""

from __future__ import annotations

import numpy as np
import polars as pl

from graphassoc.rankers.context import RankContext
from graphassoc.rankers.ease import EaseRanker
from graphassoc.rankers.hybrid import zscore
from graphassoc.runs import Run
from graphassoc.users.config import UsersConfig
from graphassoc.users.evaluate import history_masks
from graphassoc.users.history import NO_TIME, UserHistory, query_users
from graphassoc.users.personal import PersonalRanker, RepeatBoostRanker
from graphassoc.users.rerank import RerankRanker


def context(run_dir) -> RankContext:
    run = Run(run_dir)
    cfg = run.config
    return RankContext(run.path, run.items(), run.baskets(), "test", 0, cfg.evaluate, cfg)


def test_no_history_scores_as_the_base_and_history_lifts_rebought_items(user_run):
    ctx = context(user_run)
    history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    cfg = UsersConfig(repeat_weights=[5.0], decays=[1.0], bought_weights=[0.0])  # no negative flat weight
    ranker = PersonalRanker(history, cfg).fit(ctx)
    query = [np.asarray([ctx.item_index["c0"]])]
    base = zscore(ranker.base.score(query))
    np.testing.assert_allclose(ranker.score(query, [None], [NO_TIME]), base, rtol=1e-6)
    user = ctx.baskets["user_id"][0]
    bought = np.setdiff1d(np.concatenate([history.basket(r) for r in history.rows(user)]), query[0])  # query items: never ranked
    personal = ranker.score(query, [user], [NO_TIME])[0]
    lift = personal - base[0]
    assert (lift[bought] > 0).all() and np.allclose(np.delete(lift, bought), 0.0, atol=1e-5)


def test_history_of_a_query_never_holds_the_query_basket(user_run):
    ctx = context(user_run)
    history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    queries = ctx.queries()
    users, before = query_users(ctx.baskets, queries.basket_ids)
    times = dict(zip(ctx.baskets["basket_id"], ctx.baskets["timestamp"].cast(pl.Int64)))
    for basket_id, user, t in zip(queries.basket_ids, users, before):
        assert all(history.times[r] < times[basket_id] for r in history.rows(user, t))
    masks = history_masks(history, users, before)
    assert masks["with_history"].sum() + masks["no_history"].sum() == len(queries)
    assert masks["with_history"].any()


def test_the_three_personal_rankers_fit_on_validation_and_keep_no_history_rows(user_run):
    ctx = context(user_run)
    history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    queries = ctx.queries()
    users, before = query_users(ctx.baskets, queries.basket_ids)
    base = zscore(EaseRanker().fit(ctx).score(queries.query))
    masks = history_masks(history, users, before)
    for kind in (RepeatBoostRanker, PersonalRanker, RerankRanker):
        ranker = kind(history, UsersConfig(rerank_draws=2, base="ease")).fit(ctx)
        scores = ranker.score(queries.query, users, before)
        assert scores.shape == (len(queries), ctx.n_items)
        no = masks["no_history"]
        np.testing.assert_allclose(scores[no], base[no], rtol=1e-5, atol=1e-5)
