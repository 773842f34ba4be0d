"""Personal rankers: the basket model plus what this customer bought before.

score_j = z(base(basket))_j + qshare^gate * (repeat_w * R_uj + similar_w * S_uj + count_w * log(1 + C_uj)
                                           + rate_w * rate_j + fresh_w * exp(-days_uj / recency_days) + bought_w)
          [+ neighbour_w * z(EASE(R_u))_j]

over the items j the customer bought before (graphassoc/users/signals.py): R_u is the TIFU-KNN
time-decayed repeat vector (Hu et al., SIGIR 2020), S_u the same share with past baskets weighted
by their overlap with the current basket, C_u the count of past baskets holding j, rate_j how often
the shop's customers buy j again once they bought it (from the evidence window: re-buy propensity
per item, as in ReCANet, Ariannezhad et al. SIGIR 2022), days_uj the days since the customer last
bought j, bought_w a flat weight of "bought before" (it may come out negative), and qshare the
share of the current basket's items the customer bought before: a basket of re-bought items is a
re-stock (its hidden item is a re-buy 9 times in 10 on the full UCI data), a basket of new items an
exploration (1 in 7), so the history weighs in by how much this basket looks like a re-stock
(the repeat / explore split of RepeatNet and of Li et al. 2023, per basket; gate 0 = always).
Customers of a shop re-buy heavily (on UCI Online Retail 48% of a returning customer's test-basket
items were bought by them before), which no basket model sees.

TIFU-KNN's user-neighbour term needs the k most similar customers, a users x users search; its
item-side form, "items co-bought with what you bought before" (EASE applied to R_u), is kept as
an opt-in (users.neighbour_weights): on the full data it did not pay (weight 0 chosen on
validation), and the exact sparse tuning below cannot cover a term that moves every item.

The weights are tuned on the validation queries (history = the customer's baskets strictly before
the query; several hidden-item draws per basket against noise) by coordinate ascent, exactly and
without a queries x catalogue matrix (graphassoc/users/tuning.py), never on test. A query without
history scores as the base.

The baseline `ease+repeat` is the simple repeat-count boost: z(EASE)_j + w * count_uj.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from graphassoc.rankers.context import RankContext
from graphassoc.rankers.ease import EaseRanker
from graphassoc.rankers.base import Ranker, densify
from graphassoc.rankers.hybrid import zscore
from graphassoc.users.config import UsersConfig
from graphassoc.users.history import UserHistory, cut_after, query_users
from graphassoc.users.signals import HistorySignals, history_signals
from graphassoc.users.tuning import coordinate_ascent, metric_of, tuning_set

NO_PARAMS = {"decay": 1.0, "repeat_w": 0.0, "similar_w": 0.0, "count_w": 0.0, "rate_w": 0.0, "fresh_w": 0.0,
             "recency_days": 90.0, "bought_w": 0.0, "gate": 0.0, "neighbour_w": 0.0}


def base_name(ctx: RankContext, cfg: UsersConfig) -> str:
    if cfg.base != "auto":
        return cfg.base
    from graphassoc.recommend.service import default_method

    return default_method(ctx.run_dir)


def make_base(name: str, ctx: RankContext) -> Ranker:
    from graphassoc.recommend.service import make_ranker

    return make_ranker(name, ctx).fit(ctx)


def history_lift(sig: HistorySignals, params: dict[str, float]) -> np.ndarray:
    """The personal part of the score of each (query, past item) entry of `sig` (flat)."""
    gate = sig.qshare[sig.owner] ** params["gate"] if params["gate"] else 1.0
    return gate * (params["repeat_w"] * sig.repeat[params["decay"]] + params["similar_w"] * sig.similar
                   + params["count_w"] * np.log1p(sig.count) + params["rate_w"] * sig.rate
                   + params["fresh_w"] * np.exp(-sig.days / params["recency_days"]) + params["bought_w"])


def neighbour_term(ease: Ranker, sig: HistorySignals) -> np.ndarray:
    """z(EASE applied to the customer's item shares): items co-bought with what they bought before."""
    share = sp.csr_matrix((sig.repeat[1.0], sig.items, sig.indptr), shape=(len(sig.qshare), ease.weights.shape[0]))  # type: ignore[attr-defined]
    z = zscore(densify(share @ ease.weights))  # type: ignore[attr-defined]  (sparse EASE at size)
    z[~sig.has_history()] = 0.0  # no history: no term
    return z


class PersonalRanker:
    """Not a `Ranker`: it scores (basket, customer, time) triples, so it cannot sit in RANKERS."""

    name = "personal"
    baseline = False

    def __init__(self, history: UserHistory, cfg: UsersConfig | None = None, base: Ranker | None = None) -> None:
        self.history = history
        self.cfg = cfg or UsersConfig()
        self.base = base
        self.ease: Ranker | None = None
        self.params: dict[str, float] = dict(NO_PARAMS)
        self.notes: dict[str, Any] = {}
        self.rates: np.ndarray | None = None

    def fit(self, ctx: RankContext) -> "PersonalRanker":
        name = self.base.name if self.base is not None else base_name(ctx, self.cfg)
        self.base = self.base or make_base(name, ctx)
        self.rates = self.history.rebuy_rates(cut_after(ctx.evidence_baskets))
        if any(self.cfg.neighbour_weights):
            self.ease = self.base if isinstance(self.base, EaseRanker) else EaseRanker().fit(ctx)
        key = f"personal:{self.name}:{name}"
        if key not in ctx.cache:
            valid = ctx.validation()
            ease = EaseRanker().fit(valid) if any(self.cfg.neighbour_weights) else None
            ctx.cache[key] = self._tune(valid, make_base(name, valid), ease)
        self.params, valid_value = ctx.cache[key]
        self.notes = {"base": name, **self.params, f"valid_{ctx.eval_cfg.tune_metric}": round(valid_value, 4),
                      "tuned_on": f"validation, {self.cfg.tune_draws} hidden-item draws per basket"}
        return self

    def _grid(self) -> dict[str, list[float]]:
        c = self.cfg
        return {"decay": list(c.decays), "repeat_w": list(c.repeat_weights), "similar_w": list(c.similar_weights),
                "count_w": list(c.count_weights), "gate": list(c.gates), "rate_w": list(c.rate_weights),
                "fresh_w": list(c.fresh_weights), "recency_days": list(c.recency_days), "bought_w": list(c.bought_weights)}

    def _tune(self, valid: RankContext, base: Ranker, ease: Ranker | None) -> tuple[dict[str, float], float]:
        queries = valid.validation_draws(self.cfg.tune_draws)
        if len(queries) == 0:
            return dict(NO_PARAMS), 0.0
        users, before = query_users(valid.baskets, queries.basket_ids)
        metric = valid.eval_cfg.tune_metric
        decays = sorted({*self.cfg.decays, 1.0})
        best: tuple[float, dict[str, float]] = (-1.0, dict(NO_PARAMS))
        for w_n in self.cfg.neighbour_weights:  # a fixed-weight neighbour term is part of the base for the tuning
            def score(block: list[np.ndarray], sig: HistorySignals, w_n: float = w_n) -> np.ndarray:
                return self._base_score(base, ease, block, sig, w_n)

            tset = tuning_set(score, self.history, queries, users, before, decays, valid.tiebreak,
                              chunk=valid.eval_cfg.chunk_size, rates=self.history.rebuy_rates(cut_after(valid.evidence_baskets)))
            params, value = coordinate_ascent(
                self._grid(), lambda p: metric_of(tset.ranks(history_lift(tset.signals, {**NO_PARAMS, **p})), metric),
                restarts=self.cfg.tune_restarts, seed=valid.seed)
            if value > best[0] + 1e-9:
                best = (value, {**NO_PARAMS, **params, "neighbour_w": w_n})
        return best[1], best[0]

    @staticmethod
    def _base_score(base: Ranker, ease: Ranker | None, block: list[np.ndarray], sig: HistorySignals,
                    w_n: float) -> np.ndarray:
        z = zscore(base.score(block))
        if w_n and ease is not None:
            z += w_n * neighbour_term(ease, sig)
        return z

    def score(self, queries: Sequence[np.ndarray], users: Sequence[str | None], before: Sequence[int]) -> np.ndarray:
        """(n, n_items) scores; `before[i]` in microseconds bounds the history (strictly earlier baskets)."""
        assert self.base is not None, "fit first"
        block = [np.asarray(q, dtype=np.int64) for q in queries]
        sig = history_signals(self.history, block, users, before, sorted({self.params["decay"], 1.0}), self.rates)
        out = self._base_score(self.base, self.ease, block, sig, self.params["neighbour_w"])
        out[sig.owner, sig.items] += history_lift(sig, self.params)
        return out.astype(np.float32)


class RepeatBoostRanker:
    """The baseline: z(EASE) + w * (number of the customer's past baskets holding j), w tuned on validation."""

    name = "ease+repeat"
    baseline = True

    def __init__(self, history: UserHistory, cfg: UsersConfig | None = None, base: Ranker | None = None) -> None:
        self.history = history
        self.cfg = cfg or UsersConfig()
        self.base = base if isinstance(base, EaseRanker) else None
        self.params: dict[str, float] = {"repeat_w": 0.0}
        self.notes: dict[str, Any] = {}

    def fit(self, ctx: RankContext) -> "RepeatBoostRanker":
        self.base = self.base or EaseRanker().fit(ctx)
        if "personal:ease+repeat" not in ctx.cache:
            valid = ctx.validation()
            queries = valid.queries()
            users, before = query_users(valid.baskets, queries.basket_ids)
            ease = EaseRanker().fit(valid)
            tset = tuning_set(lambda block, _sig: zscore(ease.score(block)), self.history, queries, users, before,
                              [1.0], valid.tiebreak, chunk=valid.eval_cfg.chunk_size)
            metric = valid.eval_cfg.tune_metric
            ctx.cache["personal:ease+repeat"] = coordinate_ascent(
                {"repeat_w": list(self.cfg.boost_weights)}, lambda p: metric_of(tset.ranks(p["repeat_w"] * tset.signals.count), metric))
        self.params, value = ctx.cache["personal:ease+repeat"]
        self.notes = {"base": "ease", **self.params, f"valid_{ctx.eval_cfg.tune_metric}": round(value, 4)}
        return self

    def score(self, queries: Sequence[np.ndarray], users: Sequence[str | None], before: Sequence[int]) -> np.ndarray:
        assert self.base is not None, "fit first"
        block = [np.asarray(q, dtype=np.int64) for q in queries]
        sig = history_signals(self.history, block, users, before, [1.0])
        out = zscore(self.base.score(block))
        out[sig.owner, sig.items] += self.params["repeat_w"] * sig.count
        return out.astype(np.float32)
