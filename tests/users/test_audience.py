"""Audience scores and recall against brute force over every customer's baskets."""

from __future__ import annotations

import numpy as np
import polars as pl

from graphassoc.recommend.context import RankContext
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
