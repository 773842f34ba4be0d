"""The hybrid ranker: co-occurrence evidence where an item has history, the model where it has little."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from graphassoc.evaluate.metrics import per_query
from graphassoc.rankers.base import RANKERS, Ranker, RankerUnavailable
from graphassoc.rankers.context import RankContext
from graphassoc.rankers.counts import CooccurrenceRanker
from graphassoc.rankers.ease import EaseRanker
from graphassoc.rankers.model import ModelRanker, pick_model_ranker, text_modes
from graphassoc.rankers.text import TextRanker
from graphassoc.threads import thread_map


def zscore(scores: np.ndarray) -> np.ndarray:
    """Per-query standardisation, so two rankers' scores can be mixed on one scale."""
    if not np.isfinite(scores).all():  # -inf / NaN from a ranker would poison the mean: floor them
        finite = np.where(np.isfinite(scores), scores, np.inf).min(axis=1, keepdims=True)
        scores = np.where(np.isfinite(scores), scores, np.where(np.isfinite(finite), finite, 0.0))
    mean = scores.mean(axis=1, keepdims=True)
    std = np.maximum(scores.std(axis=1, keepdims=True, mean=mean), 1e-9)  # the mean once, not twice
    out = np.subtract(scores, mean)
    return np.divide(out, std, out=out)  # in place: one (queries x items) temporary, not two


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


def metric_cutoff(metric: str) -> int | None:
    """The rank beyond which the metric is 0 (hr@10, ndcg@10: 10), None when every rank counts (mrr)."""
    return int(metric.split("@")[1]) if "@" in metric else None


def grid_ranks(z_e: np.ndarray, z_m: np.ndarray, alphas: np.ndarray, grid: list[tuple[int, float, float]],
               queries: Sequence[np.ndarray], target: np.ndarray, pos: np.ndarray,
               cutoff: int | None = None) -> list[np.ndarray]:
    """The target's rank under every gate of the grid, as rank_of_targets would give on the mixed scores
    alpha * z_e + (1 - alpha) * beta * z_m with the query's items excluded, without scoring the whole
    catalogue once per grid point (45 catalogue passes were most of compare's time at 62k items).

    Exact, from two bounds. A mixed score is a convex combination of z_e and beta * z_m, so an item whose
    best combination over the grid stays below the target's worst can never outrank it: only the other
    items (the candidates: 18% of the catalogue per query on a real x16 block) are scored per grid point. With a cutoff
    (hr@10, ndcg@10), a query whose target is beaten under every gate by cutoff items already scores 0
    everywhere: its ranks are reported as cutoff + 1 and it is not scored further.
    """
    n_rows = len(target)
    rows = np.arange(n_rows)
    betas = np.array(sorted({beta for _, _, beta in grid}), dtype=np.float32)
    # The target's mixed score under each gate, computed exactly as the full rows would be.
    e_t, m_t = z_e[rows, target], z_m[rows, target]
    target_scores = np.stack([alphas[i][target] * e_t + (1 - alphas[i][target]) * np.float32(beta) * m_t
                              for i, _, beta in grid])  # (grid, rows)
    low_t, high_t = target_scores.min(axis=0), target_scores.max(axis=0)
    slack = np.float32(1e-5) * (1 + np.abs(np.concatenate([low_t, high_t])))  # float rounding of the combination
    excluded = np.zeros(z_e.shape, dtype=bool)
    excluded[np.repeat(rows, [len(q) for q in queries]), np.concatenate(list(queries)).astype(np.int64)] = True
    ranks = np.full((len(grid), n_rows), (cutoff or 0) + 1, dtype=np.int64)
    live = rows
    if cutoff is not None:
        floor = np.minimum(z_e, np.minimum(betas[0] * z_m, betas[-1] * z_m))
        floor[excluded] = -np.inf
        live = np.flatnonzero((floor > (high_t + slack[n_rows:])[:, None]).sum(axis=1) < cutoff)
        del floor
    # Only the live queries' rows are bounded and scored (the cutoff settled 23% of a real x16 block above).
    e_live, m_live = z_e[live], z_m[live]
    ceiling = np.maximum(e_live, np.maximum(betas[0] * m_live, betas[-1] * m_live))
    ceiling[excluded[live]] = -np.inf
    r, c = np.nonzero(ceiling >= (low_t[live] - slack[:n_rows][live])[:, None])  # r: position in `live`
    del ceiling
    e_c, m_c = e_live[r, c], m_live[r, c]
    before = pos[c] < pos[target[live]][r]
    bounds = np.searchsorted(r, np.arange(len(live) + 1))  # r is sorted: row k's candidates are bounds[k]:bounds[k+1]

    def per_row(hits: np.ndarray) -> np.ndarray:  # sorted candidate positions -> how many in each row
        return np.diff(np.searchsorted(hits, bounds))

    for i in sorted({i for i, _, _ in grid}):
        a_c = alphas[i][c]
        e_part, m_weight = a_c * e_c, 1 - a_c  # the same float32 operations, in the same order, as the full rows
        for g in (g for g, (j, _, _) in enumerate(grid) if j == i):
            mixed = e_part + m_weight * np.float32(grid[g][2]) * m_c
            st = target_scores[g][live][r]
            tied = np.flatnonzero(mixed == st)
            ranks[g, live] = 1 + per_row(np.flatnonzero(mixed > st)) + per_row(tied[before[tied]])
    return list(ranks)


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
        sides: list[tuple[Callable[[], Ranker], Ranker]] = []
        for make in candidates:
            try:
                sides.append((make, make().fit(valid)))
            except RankerUnavailable:
                continue
        if not sides:
            raise RankerUnavailable("no model side for the hybrid could be fitted (no text encoder, no trained model)")
        values = self._grid(self._evidence(valid), [model for _, model in sides], valid)
        best: tuple[float, Callable[[], Ranker], float, float] = (-1.0, sides[0][0], 0.0, 1.0)
        tried: dict[str, float] = {}
        for (make, model), grid in zip(sides, values):
            for (tau, beta), value in grid.items():
                tried[model.name] = max(tried.get(model.name, -1.0), round(value, 4))
                if value > best[0]:
                    best = (value, make, tau, beta)
        return best[1], best[2], best[3], best[0], tried

    @staticmethod
    def _grid(evidence: Ranker, models: list[Ranker], valid: RankContext) -> list[dict[tuple[float, float], float]]:
        """Validation metric of every (tau, beta) per model side, scoring the queries in blocks (never
        queries x items at once); each block's evidence is scored once for all the model sides."""
        queries, metric, chunk = valid.queries(), valid.eval_cfg.tune_metric, valid.eval_cfg.chunk_size
        alphas = np.stack([gate(valid.popularity, tau) for tau in HYBRID_TAUS])
        grid = [(i, tau, beta) for i, tau in enumerate(HYBRID_TAUS) for beta in HYBRID_BETAS]

        def block(start: int) -> list[list[float]]:
            batch, target = queries.query[start:start + chunk], queries.target[start:start + chunk]
            z_e = zscore(evidence.score(batch))
            sums = []
            for model in models:
                ranks = grid_ranks(z_e, zscore(model.score(batch)), alphas, grid, batch, target, valid.tiebreak,
                                   cutoff=metric_cutoff(metric))
                sums.append([float(per_query(r)[metric].sum()) for r in ranks])
            return sums

        totals = np.sum(thread_map(block, range(0, len(queries), chunk)), axis=0)  # (sides, grid)
        return [{(tau, beta): float(total) / len(queries) for (_, tau, beta), total in zip(grid, side)}
                for side in totals]

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        z_e, z_m = zscore(self.evidence.score(queries)), zscore(self.model.score(queries))
        # A query without evidence (only products without history: a flat evidence row) is the model's alone.
        alpha = np.where(np.ptp(z_e, axis=1, keepdims=True) > 0, self.alpha[None, :], np.float32(0))
        return (alpha * z_e + (1 - alpha) * self.beta * z_m).astype(np.float32)
