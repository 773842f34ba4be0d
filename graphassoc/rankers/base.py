"""The ranker interface: `fit(ctx)` then `score(queries) -> (n, n_items) float32`, and the registry.

Every ranker scores the full catalogue, new products included; the caller excludes query items.
Fitted on a RankContext (context.py), which says which baskets are evidence.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from graphassoc.errors import GraphassocError
from graphassoc.evaluate.metrics import per_query
from graphassoc.evaluate.protocol import evaluate, guard_block
from graphassoc.graph.ease import gram
from graphassoc.graph.ease_config import EaseConfig
from graphassoc.rankers.context import RankContext
from graphassoc.registry import Registry


class RankerUnavailable(GraphassocError):
    """A ranker cannot run on this run directory (e.g. no trained model); it is skipped, not fatal."""


class Ranker:
    """Base class. Subclasses set `name`, implement fit and _score; `notes` carries what to report."""

    name = "ranker"
    baseline = True  # a baseline the model is compared against (paired differences)

    def __init__(self) -> None:
        self.notes: dict[str, Any] = {}
        self.n_items = 0

    def fit(self, ctx: RankContext) -> "Ranker":
        raise NotImplementedError

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def score(self, queries: Sequence[np.ndarray], chunk: int = 1024) -> np.ndarray:
        """Scores of every catalogue item for every query, computed `chunk` queries at a time; callers
        scoring many queries pass them in blocks (evaluate, recommend_batch): the result is queries x items."""
        guard_block(len(queries), self.n_items)
        out = np.empty((len(queries), self.n_items), dtype=np.float32)
        for start in range(0, len(queries), chunk):
            out[start:start + chunk] = self._score([np.asarray(q, dtype=np.int64) for q in queries[start:start + chunk]])
        return out


# One module per ranker family registers its rankers; they load on the first lookup, in this order
# (the order of `graphassoc ls rankers`).
RANKERS: Registry[type[Ranker]] = Registry("ranker", modules=(
    "graphassoc.rankers.counts", "graphassoc.rankers.rules", "graphassoc.rankers.ease", "graphassoc.rankers.text",
    "graphassoc.rankers.model", "graphassoc.rankers.hybrid"))


def validation_score(ranker: Ranker, ctx: RankContext) -> float:
    """The tuning metric of a ranker fitted on ctx (a validation context) over its queries."""
    queries = ctx.queries()
    if len(queries) == 0:
        return 0.0
    ranking = evaluate(ranker.score, queries, ctx.tiebreak, k=10, chunk=ctx.eval_cfg.chunk_size)
    return float(per_query(ranking.ranks)[ctx.eval_cfg.tune_metric].mean())


def context_gram(ctx: RankContext) -> sp.csr_matrix:
    """The evidence window's co-occurrence counts (sparse float32, diagonal = popularity), computed
    once per context (several rankers use it)."""
    key = f"gram:{ctx.phase}"
    if key not in ctx.cache:
        ctx.cache[key] = gram(ctx.evidence)
    return ctx.cache[key]


def densify(scores: np.ndarray | sp.spmatrix) -> np.ndarray:
    """A block of scores as a dense float32 array (sparse weights give a sparse product)."""
    return np.asarray(scores.toarray() if sp.issparse(scores) else scores, dtype=np.float32)


def ease_config(ctx: RankContext) -> EaseConfig:
    """The run's EASE settings (dense / sparse by size); defaults for a context without a config."""
    return getattr(ctx.config, "ease", None) or EaseConfig()
