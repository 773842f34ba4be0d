"""The personal side of `graphassoc compare`: personal rankers on the same test queries, the
"customer with history" strata, and the audience evaluation.

History of a query = that customer's baskets strictly before the query basket's time (earlier test
baskets included, the query basket never); the protocol treats it like the other non-parametric
evidence. A query without a user id or without earlier baskets has no history; personal rankers
score it exactly as their base, so the "no_history" stratum shows they cost nothing there.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from graphassoc.errors import DataError
from graphassoc.evaluate import metrics as M
from graphassoc.evaluate.protocol import Queries, Ranking, evaluate_rows
from graphassoc.rankers.context import RankContext
from graphassoc.users.config import UsersConfig
from graphassoc.users.history import UserHistory, query_users

Progress = Callable[[str], None]


def evaluate_personal(ranker: Any, queries: Queries, users: list, before: np.ndarray, pos: np.ndarray,
                      k: int = 20, chunk: int = 512) -> Ranking:
    """protocol.evaluate for rankers that also read the customer and the query time."""
    return evaluate_rows(lambda part: ranker.score(queries.query[part], users[part], before[part]), queries, pos, k, chunk)


def history_masks(history: UserHistory, users: list, before: np.ndarray) -> dict[str, np.ndarray]:
    has = np.asarray([history.count(u, b) > 0 for u, b in zip(users, before)], dtype=bool)
    return {"with_history": has, "no_history": ~has}


def add_personal(ctx: RankContext, queries: Queries, runs: dict, masks: dict[str, np.ndarray],
                 cfg: UsersConfig | None = None, progress: Progress = lambda _m: None) -> dict[str, Any]:
    """Fit and evaluate the personal rankers into `runs`, add the history strata to `masks`.

    Returns the report's "personal" section (or {"skipped": why} when the run has no user ids or
    no timestamps, since then "before the query" has no meaning).
    """
    from graphassoc.evaluate.compare import RankerRun
    from graphassoc.users.personal import PersonalRanker, RepeatBoostRanker
    from graphassoc.users.rerank import RerankRanker

    cfg = cfg or UsersConfig()
    if ctx.baskets["timestamp"].null_count() == ctx.baskets.height:
        return {"skipped": "the baskets have no timestamps, so a customer's history before a query is undefined"}
    try:
        history = UserHistory.from_baskets(ctx.baskets, ctx.item_index)
    except DataError as err:
        return {"skipped": str(err)}
    users, before = query_users(ctx.baskets, queries.basket_ids)
    masks.update(history_masks(history, users, before))
    kinds = {"ease+repeat": RepeatBoostRanker, "personal": PersonalRanker, "personal-rerank": RerankRanker}
    for ranker in (kinds[name](history, cfg) for name in cfg.compare_rankers):
        progress(f"{ranker.name}: fitting on validation and ranking {len(queries):,} queries with their customers' history")
        start = time.perf_counter()
        ranker.fit(ctx)
        ranking = evaluate_personal(ranker, queries, users, before, ctx.tiebreak, chunk=ctx.eval_cfg.chunk_size)
        runs[ranker.name] = RankerRun(ranker, ranking, M.per_query(ranking.ranks), time.perf_counter() - start)
    from graphassoc.users.audience import evaluate_audience

    progress("audiences: recall of each test item's buyers among the best-scored customers")
    return {"history": "the customer's baskets strictly before the query basket's time (never the query basket)",
            "queries_with_history": int(masks["with_history"].sum()),
            "queries_without_history": int(masks["no_history"].sum()),
            "audience": evaluate_audience(ctx, history, cfg)}


def personal_summary(section: dict[str, Any], metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """HR@10 per history stratum, and each ranker's ratio to the best non-personal ranker there."""
    if "skipped" in section:
        return section
    personal = {"ease+repeat", "personal", "personal-rerank"}
    out = dict(section)
    for stratum in ("with_history", "no_history"):
        hr = {name: m["strata"][stratum]["hr@10"] for name, m in metrics.items() if stratum in m["strata"]}
        plain = {n: v for n, v in hr.items() if n not in personal and v == v}
        if not plain:
            continue
        best = max(plain, key=lambda n: plain[n])
        out[stratum] = {"best_non_personal": best, "hr@10": hr,
                        "ratio_to_best_non_personal": {n: round(v / plain[best], 4) if plain[best] else None
                                                       for n, v in hr.items() if n in personal}}
    return out
