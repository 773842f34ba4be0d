"""`personal-rerank`: a learned blend of the basket model and the customer's history.

For a query from a customer with history, the candidates (the base model's best items plus the
items of the customer's past baskets, graphassoc/users/features.py) are re-scored by a gradient
boosted classifier (scikit-learn's HistGradientBoosting) trained on the VALIDATION queries only:
evidence = train baskets, history = each customer's baskets before the query, several hidden-item
draws per validation basket for more examples. A hand-set blend (graphassoc/users/personal.py)
cannot express "re-bought often AND in baskets like this one AND the model ranks it well"; the
learned blend can, and it is fitted on a period the test never sees. Queries without history keep
the base ranking exactly.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from graphassoc.evaluate.protocol import exclude_query_items
from graphassoc.rankers.context import RankContext
from graphassoc.rankers.base import Ranker
from graphassoc.rankers.hybrid import zscore
from graphassoc.users.config import UsersConfig
from graphassoc.users.features import FEATURES, Candidates, candidates
from graphassoc.users.history import RECENT_BASKETS, UserHistory, query_users
from graphassoc.users.personal import base_name, make_base

LIFT = 1e3  # reranked candidates sit above every base score (base scores are z-scores)


class RerankRanker:
    name = "personal-rerank"
    baseline = False

    def __init__(self, history: UserHistory, cfg: UsersConfig | None = None, base: Ranker | None = None) -> None:
        self.history = history
        self.cfg = cfg or UsersConfig()
        self.base = base
        self.model: Any = None
        self.popularity = np.zeros(0)
        self.notes: dict[str, Any] = {}

    def fit(self, ctx: RankContext) -> "RerankRanker":
        name = self.base.name if self.base is not None else base_name(ctx, self.cfg)
        self.base = self.base or make_base(name, ctx)
        self.popularity = ctx.popularity
        key = f"personal-rerank:{name}"
        if key not in ctx.cache:
            ctx.cache[key] = self._train(ctx.validation(), name)
        self.model, self.notes = ctx.cache[key]
        return self

    def _train(self, valid: RankContext, name: str) -> tuple[Any, dict[str, Any]]:
        from sklearn.ensemble import HistGradientBoostingClassifier

        queries = valid.validation_draws(self.cfg.rerank_draws)
        base = make_base(name, valid)
        users, before = query_users(valid.baskets, queries.basket_ids)
        cands = self._candidates(base, queries.query, users, before, valid.popularity)
        used = [(c, t) for c, t in zip(cands, queries.target) if c is not None]
        if not used or not any(t in c.items for c, t in used):
            return None, {"base": name, "trained_on": 0}
        x = np.concatenate([c.features for c, _ in used])
        y = np.concatenate([c.items == t for c, t in used])
        from threadpoolctl import threadpool_limits

        model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=50,
                                               early_stopping=True, validation_fraction=0.15, random_state=valid.seed)
        with threadpool_limits(1):  # OpenMP threads spinning on a busy machine cost far more than they bring here
            model.fit(x, y)
        return model, {"base": name, "trained_on": {"queries": len(used), "candidates": int(len(y)), "positives": int(y.sum())},
                       "features": list(FEATURES), "boosting_rounds": int(model.n_iter_)}

    def _candidates(self, base: Ranker, queries: Sequence[np.ndarray], users: Sequence[str | None],
                    before: Sequence[int], popularity: np.ndarray) -> list[Candidates | None]:
        out: list[Candidates | None] = []
        chunk = 512
        for start in range(0, len(queries), chunk):
            part = [np.asarray(q, dtype=np.int64) for q in queries[start:start + chunk]]
            z = exclude_query_items(zscore(base.score(part)), part)
            for i, query in enumerate(part):
                rows = self.history.rows(users[start + i], int(before[start + i]), recent=RECENT_BASKETS)
                out.append(candidates(self.history, rows, query, z[i], None, popularity, int(before[start + i]),
                                      self.cfg.rerank_base_candidates, self.cfg.rerank_history_candidates)
                           if len(rows) else None)
        return out

    def score(self, queries: Sequence[np.ndarray], users: Sequence[str | None], before: Sequence[int]) -> np.ndarray:
        assert self.base is not None, "fit first"
        part = [np.asarray(q, dtype=np.int64) for q in queries]
        scores = zscore(self.base.score(part)).astype(np.float32)
        if self.model is None:
            return scores
        masked = exclude_query_items(scores.copy(), part)
        found: list[tuple[int, Candidates]] = []
        for i, query in enumerate(part):
            rows = self.history.rows(users[i], int(before[i]), recent=RECENT_BASKETS)
            if len(rows):
                found.append((i, candidates(self.history, rows, query, masked[i], None, self.popularity, int(before[i]),
                                            self.cfg.rerank_base_candidates, self.cfg.rerank_history_candidates)))
        if found:  # one model call per batch: per-query calls cost more in overhead than in trees
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1):
                values = self.model.decision_function(np.concatenate([c.features for _, c in found]))
            offsets = np.cumsum([0, *[len(c.items) for _, c in found]])
            for (i, cand), lo, hi in zip(found, offsets[:-1], offsets[1:]):
                scores[i, cand.items] = LIFT + values[lo:hi]
        return scores

    def explain_candidates(self, query: np.ndarray, user: str, before: int) -> Candidates | None:
        """The candidates and features behind a personal recommendation (for evidence)."""
        rows = self.history.rows(user, before, recent=RECENT_BASKETS)
        if not len(rows):
            return None
        z = exclude_query_items(zscore(self.base.score([query])), [query])[0]  # type: ignore[union-attr]
        return candidates(self.history, rows, query, z, None, self.popularity, before)
