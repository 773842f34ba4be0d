"""The EASE ranker: the closed-form linear autoencoder of graph/ease.py, lambda tuned on validation."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from graphassoc.evaluate.protocol import query_matrix
from graphassoc.graph.ease import fit_ease_gram, sparse_ease_path, use_dense
from graphassoc.rankers.base import RANKERS, Ranker, context_gram, densify, ease_config, validation_score
from graphassoc.rankers.context import RankContext


@RANKERS.register("ease", "EASE linear autoencoder (closed form), lambda tuned on validation")
class EaseRanker(Ranker):
    name = "ease"

    def fit(self, ctx: RankContext) -> "EaseRanker":
        self.n_items = ctx.n_items
        lam = self._tuned_lambda(ctx)
        key = f"ease:{ctx.phase}:{lam}"
        if key not in ctx.cache:  # the hybrid refits EASE on the same context: reuse the weights
            ctx.cache[key] = fit_ease_gram(context_gram(ctx), lam, ease_config(ctx))
        self.weights = ctx.cache[key]
        self.notes = {"lambda": lam, "method": "sparse" if sp.issparse(self.weights) else "dense",
                      **ctx.cache.get("ease:grid_notes", {})}
        return self

    def _tuned_lambda(self, ctx: RankContext) -> float:
        grid = ctx.settings.ease_lambdas
        if len(grid) == 1:
            return float(grid[0])
        if "ease:lambda" not in ctx.cache:
            valid = ctx.validation()
            cfg, g = ease_config(ctx), context_gram(valid)
            if use_dense(valid.n_items, cfg):  # one exact fit per lambda, one at a time in memory
                fits = (fit_ease_gram(g, lam, cfg) for lam in grid)
            else:  # one neighbourhood gather, one batched solve per lambda
                fits = iter(sparse_ease_path(g, list(grid), neighbours=cfg.neighbours))
            scores = {}
            for lam, weights in zip(grid, fits):
                probe = EaseRanker()
                probe.n_items, probe.weights = valid.n_items, weights
                scores[lam] = validation_score(probe, valid)
            ctx.cache["ease:lambda"] = float(max(scores, key=lambda k: scores[k]))
            ctx.cache["ease:grid_notes"] = {f"valid_{ctx.eval_cfg.tune_metric}": {str(k): round(v, 4) for k, v in scores.items()}}
        return ctx.cache["ease:lambda"]

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return densify(query_matrix(queries, self.n_items) @ self.weights)
