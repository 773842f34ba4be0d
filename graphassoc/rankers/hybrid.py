"""The hybrid ranker: co-occurrence evidence where an item has history, the model where it has little."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from graphassoc.evaluate.metrics import per_query
from graphassoc.evaluate.protocol import exclude_query_items, rank_of_targets
from graphassoc.rankers.base import RANKERS, Ranker, RankerUnavailable
from graphassoc.rankers.context import RankContext
from graphassoc.rankers.counts import CooccurrenceRanker
from graphassoc.rankers.ease import EaseRanker
from graphassoc.rankers.model import ModelRanker, pick_model_ranker, text_modes
from graphassoc.rankers.text import TextRanker


def zscore(scores: np.ndarray) -> np.ndarray:
    """Per-query standardisation, so two rankers' scores can be mixed on one scale."""
    if not np.isfinite(scores).all():  # -inf / NaN from a ranker would poison the mean: floor them
        finite = np.where(np.isfinite(scores), scores, np.inf).min(axis=1, keepdims=True)
        scores = np.where(np.isfinite(scores), scores, np.where(np.isfinite(finite), finite, 0.0))
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.maximum(std, 1e-9)


HYBRID_TAUS = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, float("inf"))
HYBRID_BETAS = (0.25, 0.5, 1.0, 2.0, 4.0)


def gate(popularity: np.ndarray, tau: float) -> np.ndarray:
    """Trust in the evidence per item: pop / (pop + tau); tau 0 trusts any history, tau inf none."""
    pop = np.asarray(popularity, dtype=np.float32)
    if tau == 0:
        return (pop > 0).astype(np.float32)
    if not np.isfinite(tau):
        return np.zeros_like(pop)
    return pop / (pop + np.float32(tau))


@RANKERS.register("hybrid", "co-occurrence evidence (EASE) where an item has history, the model where it has little; gate tuned on validation")
class HybridRanker(Ranker):
    """score_j = a_j * z(evidence)_j + (1 - a_j) * beta * z(model)_j with a_j = pop_j / (pop_j + tau).

    pop_j is item j's evidence popularity: an item with a long history is judged by its
    co-occurrences, a new product (pop 0) by the model alone. tau and beta are chosen on the
    validation queries (evidence = train), never on test.
    """

    name = "hybrid"
    baseline = False

    def __init__(self, model_factory: Callable[[], Ranker] | None = None) -> None:
        super().__init__()
        self.model_factory = model_factory  # None: every trained mode and frozen text compete on validation

    def _evidence(self, ctx: RankContext) -> Ranker:
        return {"ease": EaseRanker, "cooccurrence": CooccurrenceRanker}[ctx.settings.hybrid_evidence]().fit(ctx)

    def _candidates(self, ctx: RankContext) -> list[Callable[[], Ranker]]:
        if self.model_factory is not None:
            return [self.model_factory]
        wanted = ctx.settings.hybrid_model
        if wanted != "auto":
            return [lambda: pick_model_ranker(ctx)]
        return [TextRanker, *[(lambda m=m: ModelRanker(m)) for m in text_modes(ctx.run_dir)]]

    def fit(self, ctx: RankContext) -> "HybridRanker":
        self.n_items = ctx.n_items
        if "hybrid:gate" not in ctx.cache:
            ctx.cache["hybrid:gate"] = self._tune(ctx.validation())
        make, self.tau, self.beta, grid_best, tried = ctx.cache["hybrid:gate"]
        self.evidence, self.model = self._evidence(ctx), make().fit(ctx)
        self.alpha = gate(ctx.popularity, self.tau)
        self.notes = {"tau": self.tau, "beta": self.beta, "evidence": self.evidence.name, "model": self.model.name,
                      f"valid_{ctx.eval_cfg.tune_metric}": round(grid_best, 4), "model_sides_tried": tried}
        return self

    def _tune(self, valid: RankContext) -> tuple[Callable[[], Ranker], float, float, float, dict[str, float]]:
        """Pick the model side, tau and beta with the best validation metric (evidence = train)."""
        queries = valid.queries()
        candidates = self._candidates(valid)
        if len(queries) == 0:
            return candidates[0], 0.0, 1.0, 0.0, {}
        evidence = self._evidence(valid)
        best: tuple[float, Callable[[], Ranker], float, float] = (-1.0, candidates[0], 0.0, 1.0)
        tried: dict[str, float] = {}
        for make in candidates:
            try:
                model = make().fit(valid)
            except RankerUnavailable:
                continue
            for (tau, beta), value in self._grid(evidence, model, valid).items():
                tried[model.name] = max(tried.get(model.name, -1.0), round(value, 4))
                if value > best[0]:
                    best = (value, make, tau, beta)
        if not tried:
            raise RankerUnavailable("no model side for the hybrid could be fitted (no text encoder, no trained model)")
        return best[1], best[2], best[3], best[0], tried

    @staticmethod
    def _grid(evidence: Ranker, model: Ranker, valid: RankContext) -> dict[tuple[float, float], float]:
        """Validation metric of every (tau, beta), scoring the queries in blocks (never queries x items at once)."""
        queries, metric, chunk = valid.queries(), valid.eval_cfg.tune_metric, valid.eval_cfg.chunk_size
        alphas = {tau: gate(valid.popularity, tau)[None, :] for tau in HYBRID_TAUS}
        sums = {(tau, beta): 0.0 for tau in HYBRID_TAUS for beta in HYBRID_BETAS}
        for start in range(0, len(queries), chunk):
            batch, target = queries.query[start:start + chunk], queries.target[start:start + chunk]
            z_e, z_m = zscore(evidence.score(batch)), zscore(model.score(batch))
            for tau, beta in sums:
                alpha = alphas[tau]
                mixed = exclude_query_items(alpha * z_e + (1 - alpha) * beta * z_m, batch)
                sums[(tau, beta)] += float(per_query(rank_of_targets(mixed, target, valid.tiebreak))[metric].sum())
        return {key: total / len(queries) for key, total in sums.items()}

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        z_e, z_m = zscore(self.evidence.score(queries)), zscore(self.model.score(queries))
        # A query without evidence (only products without history: a flat evidence row) is the model's alone.
        alpha = np.where(np.ptp(z_e, axis=1, keepdims=True) > 0, self.alpha[None, :], np.float32(0))
        return (alpha * z_e + (1 - alpha) * self.beta * z_m).astype(np.float32)
