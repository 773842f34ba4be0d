"""Worked examples with product titles, and the overlap of the rules' and the model's top 10."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphassoc.evaluate.protocol import Queries, exclude_query_items, rank_of_targets, top_k
from graphassoc.rankers.context import RankContext
from graphassoc.rankers.rules import RulesRanker


def overlap(runs: dict[str, Any], rules: str, model: str | None) -> dict[str, Any]:
    """Per query, how many of the rules' top 10 the model's top 10 share."""
    if rules not in runs or model is None or model not in runs:
        return {"skipped": f"needs both '{rules}' and a model-side ranker"}
    a, b = runs[rules].ranking.top[:, :10], runs[model].ranking.top[:, :10]
    shared = np.array([len(np.intersect1d(x, y)) for x, y in zip(a, b)])
    return {"rules": rules, "model": model, "mean_shared": float(shared.mean()),
            "histogram_counts": np.bincount(shared, minlength=11).tolist()}


def _titles(ctx: RankContext, idx: np.ndarray | list[int], limit: int = 4) -> list[str]:
    titles = ctx.items["title"]
    shown = [str(titles[int(i)]) for i in list(idx)[:limit]]
    return shown + ([f"... (+{len(idx) - limit})"] if len(idx) > limit else [])


def _model_pairs(runs: dict[str, Any], rules_ranker: RulesRanker, model: str, ctx: RankContext,
                 queries: Queries, n: int) -> list[dict[str, Any]]:
    """Hidden items the model put in its top 10 although no applicable rule names them."""
    hits = np.flatnonzero(runs[model].ranking.ranks <= 10)[:2000]
    if len(hits) == 0:
        return []
    named = np.concatenate([  # the rule score of each hit's target, in blocks of 256 queries x catalogue
        rules_ranker.rule_scores([queries.query[i] for i in block])[np.arange(len(block)), queries.target[block]]
        for block in np.array_split(hits, -(-len(hits) // 256))])
    no_rule = hits[named == 0]
    # The shortest queries make the clearest examples: few items to read.
    chosen = sorted(no_rule, key=lambda i: (len(queries.query[i]), i))[:n]
    return [{"query": _titles(ctx, queries.query[i]), "found": _titles(ctx, [queries.target[i]])[0],
             "model_rank": int(runs[model].ranking.ranks[i]), "rules_rank": int(runs["rules"].ranking.ranks[i])}
            for i in chosen]


def _rules_model_ranks_low(rules_ranker: RulesRanker, model_ranker: Any, ctx: RankContext, n: int) -> list[dict[str, Any]]:
    """Strong one-to-one rules (high confidence) whose consequent the model ranks far down."""
    rules = rules_ranker.rules
    single = rules.filter((rules["antecedents"].list.len() == 1) & (rules["consequents"].list.len() == 1))
    strong = single.sort("confidence", descending=True).head(300)
    if strong.height == 0:
        return []
    ante = np.asarray([ctx.item_index[a[0]] for a in strong["antecedents"].to_list()])
    cons = np.asarray([ctx.item_index[c[0]] for c in strong["consequents"].to_list()])
    queries = [np.array([a]) for a in ante]
    scores = exclude_query_items(model_ranker.score(queries), queries)
    ranks = rank_of_targets(scores, cons, ctx.tiebreak)
    worst = np.argsort(-ranks, kind="stable")[:n]
    return [{"antecedent": _titles(ctx, [ante[i]])[0], "consequent": _titles(ctx, [cons[i]])[0],
             "confidence": round(float(strong["confidence"][int(i)]), 3), "lift": round(float(strong["lift"][int(i)]), 1),
             "model_rank": int(ranks[i])} for i in worst]


def _new_products(model_ranker: Any, ctx: RankContext, queries: Queries, n: int) -> list[dict[str, Any]]:
    """Items never seen before the cut that test baskets hold, with the model's top 5 partners."""
    new = np.unique(queries.target[ctx.popularity[queries.target] == 0])[:n]
    if len(new) == 0:
        return []
    q = [np.array([i]) for i in new]
    top = top_k(exclude_query_items(model_ranker.score(q), q), 5, ctx.tiebreak)
    return [{"new_product": _titles(ctx, [i])[0], "predicted_partners": _titles(ctx, t, limit=5)} for i, t in zip(new, top)]


def worked_examples(runs: dict[str, Any], rules: str, model: str | None, ctx: RankContext, queries: Queries,
                    n: int) -> dict[str, Any]:
    if n == 0:
        return {}
    out: dict[str, Any] = {}
    model_ranker = runs[model].ranker if model in runs else None
    rules_ranker = runs[rules].ranker if rules in runs else None
    if model_ranker is None:
        return {"skipped": "no model-side ranker ran"}
    out["model"] = model
    if isinstance(rules_ranker, RulesRanker):
        out["pairs_the_model_finds_that_no_rule_has"] = _model_pairs(runs, rules_ranker, model, ctx, queries, n)
        out["rules_the_model_ranks_low"] = _rules_model_ranks_low(rules_ranker, model_ranker, ctx, n)
    out["new_products_and_predicted_partners"] = _new_products(model_ranker, ctx, queries, n)
    return out
