"""The text-only ranker: the frozen encoder's cosine between query items and every catalogue item."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from graphassoc.memory import check_fits
from graphassoc.rankers.base import RANKERS, Ranker, RankerUnavailable
from graphassoc.rankers.context import RankContext


def item_embeddings(ctx: RankContext) -> np.ndarray:
    """L2-normalised frozen encoder embeddings of every item, from the text stage (cached in RUN/text/)."""
    if "text:embeddings" not in ctx.cache:
        try:
            from graphassoc.text.encoder import item_embeddings as encode_items
        except ImportError as err:
            raise RankerUnavailable(f"the text encoder is not available ({err})") from None
        text_cfg = getattr(ctx.config, "text", None)
        vectors = np.asarray(encode_items(ctx.run_dir, text_cfg, device=ctx.settings.device), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        ctx.cache["text:embeddings"] = vectors
    return ctx.cache["text:embeddings"]


@RANKERS.register("text", "frozen text encoder: max cosine similarity to any query item")
class TextRanker(Ranker):
    """score_j = max over query items q of cos(q, j).

    Up to rankers.text_exact_max_items every cosine is computed once (an n x n float32 matrix:
    60 MB for 3,900 items); above, each item keeps its `text_neighbours` nearest items
    (text/neighbours.py: exact top-k, HNSW at size) and an item in no query item's list scores -1,
    below every listed one: the top of the ranking is exact as long as the lists are, the tail is
    tied and falls back to the protocol's tie-break.
    """

    name = "text"

    def fit(self, ctx: RankContext) -> "TextRanker":
        self.n_items = ctx.n_items
        emb = item_embeddings(ctx)
        cfg = ctx.settings
        if self.n_items <= cfg.text_exact_max_items:
            check_fits(4.0 * self.n_items ** 2, f"the text ranker's {self.n_items:,} x {self.n_items:,} cosines",
                       "lower --set rankers.text_exact_max_items (above it, nearest-neighbour lists)")
            self.similarity, self.lists = emb @ emb.T, None
        else:
            key = f"text:lists:{cfg.text_neighbours}"
            if key not in ctx.cache:
                ctx.cache[key] = neighbour_lists(emb, cfg.text_neighbours, text_neighbours_config(ctx))
            self.similarity, self.lists = None, ctx.cache[key]
        self.notes = {"search": "exact" if self.lists is None else f"top-{cfg.text_neighbours} lists"}
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        out = np.full((len(queries), self.n_items), -1.0, dtype=np.float32)
        if self.lists is None:
            for i, query in enumerate(queries):
                if len(query):
                    out[i] = self.similarity[query].max(axis=0)
            return out
        if sum(len(q) for q in queries):
            rows = np.repeat(np.arange(len(queries)), [len(q) for q in queries])
            part = self.lists[np.concatenate(list(queries)).astype(np.int64)].tocoo()
            np.maximum.at(out, (rows[part.row], part.col), part.data)
        return out


def neighbour_lists(emb: np.ndarray, k: int, cfg: Any = None) -> sp.csr_matrix:
    """Each item's k nearest items by cosine (itself included), as a sparse n x n similarity matrix."""
    from graphassoc.text.neighbours import nearest

    idx, sims = nearest(emb, emb, k, cfg=cfg)
    keep = idx >= 0
    rows = np.repeat(np.arange(len(emb)), keep.sum(axis=1))
    return sp.csr_matrix((sims[keep], (rows, idx[keep])), shape=(len(emb), len(emb)), dtype=np.float32)


def text_neighbours_config(ctx: RankContext) -> Any:
    return getattr(getattr(ctx.config, "text", None), "neighbours", None)
