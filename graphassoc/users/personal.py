"""Personal rankers: the basket model plus what this customer bought before.

score_j = z(base(basket))_j + repeat_w * R_uj + neighbour_w * z(EASE(R_u))_j

- R_u is the customer's TIFU-KNN repeat vector (Hu et al., SIGIR 2020): the recency-decayed share
  of their past baskets holding j. Customers of a shop re-buy heavily (on UCI Online Retail about
  half of a returning customer's basket was bought by them before), which no basket model sees.
- TIFU-KNN's user-neighbour term needs the k most similar customers, i.e. a users x users search;
  its item-side equivalent, "items co-bought with what you bought before" (EASE applied to R_u),
  costs O(history x catalogue) per query and no user index, so it scales to millions of customers.
- decay, repeat_w and neighbour_w are tuned on the validation queries (history = the customer's
  baskets strictly before the query), never on test. A query without history scores as the base.

The baseline `ease+repeat` is the simple repeat-count boost: z(EASE)_j + w * count_uj.
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from graphassoc.evaluate.metrics import per_query
from graphassoc.evaluate.protocol import exclude_query_items, rank_of_targets
from graphassoc.recommend.context import RankContext
from graphassoc.recommend.rankers import EaseRanker, Ranker, densify, zscore
from graphassoc.users.config import UsersConfig
from graphassoc.users.history import UserHistory, query_users


def base_name(ctx: RankContext, cfg: UsersConfig) -> str:
    if cfg.base != "auto":
        return cfg.base
    from graphassoc.recommend.service import default_method

    return default_method(ctx.run_dir)


def make_base(name: str, ctx: RankContext) -> Ranker:
    from graphassoc.recommend.service import make_ranker

    return make_ranker(name, ctx).fit(ctx)


class PersonalRanker:
    """Not a `Ranker`: it scores (basket, customer, time) triples, so it cannot sit in RANKERS."""

    name = "personal"
    baseline = False

    def __init__(self, history: UserHistory, cfg: UsersConfig | None = None, base: Ranker | None = None) -> None:
        self.history = history
        self.cfg = cfg or UsersConfig()
        self.base = base
        self.ease: Ranker | None = None
        self.params: dict[str, float] = {"decay": 1.0, "repeat_w": 0.0, "neighbour_w": 0.0}
        self.notes: dict[str, Any] = {}

    def fit(self, ctx: RankContext) -> "PersonalRanker":
        name = self.base.name if self.base is not None else base_name(ctx, self.cfg)
        self.base = self.base or make_base(name, ctx)
        self.ease = self.base if isinstance(self.base, EaseRanker) else EaseRanker().fit(ctx)
        key = f"personal:{self.name}:{name}"
        if key not in ctx.cache:
            valid = ctx.validation()
            ctx.cache[key] = self._tune(valid, make_base(name, valid), EaseRanker().fit(valid))
        self.params, valid_value = ctx.cache[key]
        self.notes = {"base": name, **self.params, f"valid_{ctx.eval_cfg.tune_metric}": round(valid_value, 4)}
        return self

    def _grid(self) -> list[dict[str, float]]:
        return [{"decay": d, "repeat_w": r, "neighbour_w": n} for d, r, n in
                itertools.product(self.cfg.decays, self.cfg.repeat_weights, self.cfg.neighbour_weights)]

    def _tune(self, valid: RankContext, base: Ranker, ease: Ranker) -> tuple[dict[str, float], float]:
        queries = valid.queries()
        if len(queries) == 0:
            return self.params, 0.0
        users, before = query_users(valid.baskets, queries.basket_ids)
        z_base = zscore(base.score(queries.query))
        best: tuple[float, dict[str, float]] = (-1.0, self.params)
        for decay in self.cfg.decays:
            repeat = self.history.repeat_matrix(users, before, decay)
            z_neigh = self._neighbour(ease, repeat)
            for params in (p for p in self._grid() if p["decay"] == decay):
                scores = self._combine(z_base, repeat, z_neigh, params)
                value = _metric(scores, queries, valid)
                if value > best[0] + 1e-9:
                    best = (value, params)
        return best[1], best[0]

    @staticmethod
    def _neighbour(ease: Ranker, repeat: sp.csr_matrix) -> np.ndarray:
        """z(EASE applied to the repeat vector): items co-bought with what the customer bought before."""
        raw = densify(repeat @ ease.weights)  # type: ignore[attr-defined]  (sparse EASE at size)
        z = zscore(raw)
        z[repeat.getnnz(axis=1) == 0] = 0.0  # no history: no term
        return z

    @staticmethod
    def _combine(z_base: np.ndarray, repeat: sp.csr_matrix, z_neigh: np.ndarray, params: dict[str, float]) -> np.ndarray:
        out = z_base + params["neighbour_w"] * z_neigh if params["neighbour_w"] else z_base.copy()
        if params["repeat_w"]:
            out += params["repeat_w"] * repeat.toarray()
        return out

    def score(self, queries: Sequence[np.ndarray], users: Sequence[str | None], before: Sequence[int]) -> np.ndarray:
        """(n, n_items) scores; `before[i]` in microseconds bounds the history (strictly earlier baskets)."""
        assert self.base is not None and self.ease is not None, "fit first"
        repeat = self.history.repeat_matrix(users, before, self.params["decay"])
        z_neigh = self._neighbour(self.ease, repeat) if self.params["neighbour_w"] else 0.0
        return self._combine(zscore(self.base.score(list(queries))), repeat, z_neigh, self.params).astype(np.float32)


class RepeatBoostRanker(PersonalRanker):
    """The baseline: z(EASE) + w * (number of the customer's past baskets holding j)."""

    name = "ease+repeat"
    baseline = True

    def fit(self, ctx: RankContext) -> "RepeatBoostRanker":
        self.base = self.base if isinstance(self.base, EaseRanker) else EaseRanker().fit(ctx)
        return super().fit(ctx)  # type: ignore[return-value]

    def _grid(self) -> list[dict[str, float]]:
        return [{"decay": 1.0, "repeat_w": w, "neighbour_w": 0.0} for w in self.cfg.boost_weights]

    def _tune(self, valid: RankContext, base: Ranker, ease: Ranker) -> tuple[dict[str, float], float]:
        queries = valid.queries()
        users, before = query_users(valid.baskets, queries.basket_ids)
        z_base = zscore(ease.score(queries.query))
        counts = self.history.repeat_matrix(users, before, 1.0, normalise=False)
        best: tuple[float, dict[str, float]] = (-1.0, self.params)
        for params in self._grid():
            value = _metric(self._combine(z_base, counts, z_base, params), queries, valid)
            if value > best[0] + 1e-9:
                best = (value, params)
        return best[1], best[0]

    def score(self, queries: Sequence[np.ndarray], users: Sequence[str | None], before: Sequence[int]) -> np.ndarray:
        assert self.base is not None, "fit first"
        counts = self.history.repeat_matrix(users, before, 1.0, normalise=False)
        return (zscore(self.base.score(list(queries))) + self.params["repeat_w"] * counts.toarray()).astype(np.float32)


def _metric(scores: np.ndarray, queries: Any, ctx: RankContext) -> float:
    scores = exclude_query_items(np.array(scores, dtype=np.float32), queries.query)
    return float(per_query(rank_of_targets(scores, queries.target, ctx.tiebreak))[ctx.eval_cfg.tune_metric].mean())
