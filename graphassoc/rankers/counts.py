"""Rankers from counts alone: popularity, and co-occurrence (sum of P(j | q) over query items)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from graphassoc.evaluate.protocol import query_matrix
from graphassoc.graph.ease import use_dense
from graphassoc.rankers.base import RANKERS, Ranker, context_gram, densify, ease_config
from graphassoc.rankers.context import RankContext


@RANKERS.register("popularity", "most bought items first (evidence-window basket count)")
class PopularityRanker(Ranker):
    name = "popularity"

    def fit(self, ctx: RankContext) -> "PopularityRanker":
        self.n_items = ctx.n_items
        self.pop = ctx.popularity.astype(np.float32)
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return np.tile(self.pop, (len(queries), 1))


@RANKERS.register("cooccurrence", "sum over query items q of P(j | q) from evidence co-occurrence counts")
class CooccurrenceRanker(Ranker):
    name = "cooccurrence"

    def fit(self, ctx: RankContext) -> "CooccurrenceRanker":
        self.n_items = ctx.n_items
        counts = context_gram(ctx)
        pop = counts.diagonal()
        off = sp.csr_matrix(counts - sp.diags(pop), dtype=np.float32)
        off.eliminate_zeros()
        # Row q holds P(j | q) = count(q, j) / count(q) (sparse); items never seen have an empty row.
        off.data = off.data / np.repeat(np.maximum(pop, 1.0).astype(np.float32), np.diff(off.indptr))
        # Dense while EASE would be dense (a sparse x dense product is ~3x faster than sparse x sparse).
        self.cond = off.toarray() if use_dense(self.n_items, ease_config(ctx)) else off
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return densify(query_matrix(queries, self.n_items) @ self.cond)
