"""Audience scores and recall against brute force over every customer's baskets."""

from __future__ import annotations

import numpy as np
import polars as pl

from graphassoc.rankers.context import RankContext
from graphassoc.rankers.ease import EaseRanker
from graphassoc.runs import Run
from graphassoc.users.audience import AudienceModel, buyers_after, recall_at
from graphassoc.users.history import UserHistory


def test_audience_scores_and_recall_match_brute_force(user_run):
    run = Run(user_run)
    cfg = run.config
    ctx = RankContext(run.path, run.items(), run.baskets(), "test", 0, cfg.evaluate, cfg)
    history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    model = AudienceModel.fit(ctx, history, decay=0.5)
    model.repeat_w = 2.0
    item = ctx.item_index["c1"]
    evidence = ctx.evidence_baskets.filter(pl.col("user_id").is_not_null()).sort("timestamp")
    w = model.ease[:, item].astype(np.float64).copy()
    w[item] = 0.0
    for row, user in enumerate(model.users):
        baskets = evidence.filter(pl.col("user_id") == user)["items"].to_list()
        counts = np.zeros(ctx.n_items)
        for age, items in enumerate(reversed(baskets)):
            for i in items:
                counts[ctx.item_index[i]] += 0.5 ** age
        assert abs(model.scores(item)[row] - (counts @ w + 2.0 * counts[item])) < 1e-4
    assert model.scores(item, "most-active")[0] == len(evidence.filter(pl.col("user_id") == model.users[0]))
    buyers = buyers_after(ctx.baskets, "test", model, ctx.item_index)
    n = 5
    expected = np.mean([np.isin(b, np.argsort(-model.scores(i), kind="stable")[:n]).mean() for i, b in buyers.items()])
    assert abs(recall_at(model, buyers, n, "audience") - expected) < 0.05  # ties may order differently
    assert recall_at(model, buyers, len(model.users), "audience") == 1.0


def test_audience_and_personal_terms_are_the_same_with_sparse_ease(user_run):
    """At size EASE is sparse (ease.method=auto above ease.dense_max_items): with every item as a
    neighbour the sparse fit is exact, so audiences and the personal neighbour term must not move."""
    from graphassoc.graph.ease_config import EaseConfig
    from graphassoc.users.personal import neighbour_term
    from graphassoc.users.signals import history_signals

    run = Run(user_run)
    cfg = run.config
    dense_ctx = RankContext(run.path, run.items(), run.baskets(), "test", 0, cfg.evaluate,
                            cfg.model_copy(update={"ease": EaseConfig(method="dense")}))
    sparse_ctx = RankContext(run.path, run.items(), run.baskets(), "test", 0, cfg.evaluate,
                             cfg.model_copy(update={"ease": EaseConfig(method="sparse", neighbours=100_000)}))
    history = UserHistory.from_baskets(dense_ctx.baskets, dense_ctx.item_index)
    dense, sparse = AudienceModel.fit(dense_ctx, history), AudienceModel.fit(sparse_ctx, history)
    for item in range(dense_ctx.n_items):
        np.testing.assert_allclose(sparse.scores(item), dense.scores(item), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(sparse.scores(item, "co-purchase"), dense.scores(item, "co-purchase"), rtol=1e-6)
    empty = [np.zeros(0, dtype=np.int64)] * len(dense.users)
    sig = history_signals(history, empty, dense.users, [2**62] * len(dense.users), [1.0])
    terms = [neighbour_term(EaseRanker().fit(c), sig) for c in (dense_ctx, sparse_ctx)]
    np.testing.assert_allclose(terms[1], terms[0], rtol=1e-3, atol=1e-4)


def test_audience_evaluation_scores_at_most_audience_items_a_seeded_sample(user_run):
    from graphassoc.users.audience import evaluate_audience, sample_items

    run = Run(user_run)
    ctx = RankContext(run.path, run.items(), run.baskets(), "test", 0, run.config.evaluate, run.config)
    history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    whole = evaluate_audience(ctx, history, run.config.users)
    assert whole["items"] == whole["items_bought"] >= 4
    cap = whole["items"] // 2
    capped = evaluate_audience(ctx, history, run.config.users.model_copy(update={"audience_items": cap}))
    assert capped["items"] == cap and capped["items_bought"] == whole["items"]
    # The sample: `cap` distinct items bought in the period, each with all its buyers, the same for a seed.
    buyers = {1: np.array([0]), 5: np.array([1, 2]), 9: np.array([3]), 12: np.array([4])}
    sample = sample_items(buyers, 2, seed=3)
    assert len(sample) == 2 and all(np.array_equal(sample[i], buyers[i]) for i in sample)
    assert sample.keys() == sample_items(buyers, 2, seed=3).keys()
    assert len({tuple(sample_items(buyers, 2, seed=s)) for s in range(20)}) > 1
    assert sample_items(buyers, None, 0) is buyers
