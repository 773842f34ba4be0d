"""What the model reads at scoring time, built from a window of baskets that never holds its targets.

Training: evidence = the earlier train baskets, targets = the later ones. Validation: evidence =
train, targets = valid. Deployment (load_model): evidence = train + valid, as the protocol allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from graphassoc.graph.ease import ease_weights
from graphassoc.model.config import TrainConfig


@dataclass
class Evidence:
    ease: torch.Tensor | None  # (n, n) EASE item-item weights, zero diagonal; None when use_ease is off
    edge_index: torch.Tensor  # (2, E) message-passing edges, source -> target
    log_pop: torch.Tensor  # (n,) log(1 + baskets holding the item)
    seen: torch.Tensor  # (n,) bool: the item occurs in the evidence window
    text_sim: torch.Tensor | None = None  # (n, n) cosine of the item texts (max-similarity term for new items)

    def to(self, device: torch.device) -> "Evidence":
        return Evidence(None if self.ease is None else self.ease.to(device), self.edge_index.to(device),
                        self.log_pop.to(device), self.seen.to(device),
                        None if self.text_sim is None else self.text_sim.to(device))


def copurchase_edges(x: sp.csr_matrix, neighbours: int, min_count: int) -> np.ndarray:
    """Each item's strongest co-purchase partners (count >= min_count), both directions, deduplicated."""
    counts = (x.T @ x).toarray().astype(np.float32)
    np.fill_diagonal(counts, 0.0)
    counts[counts < min_count] = 0.0
    k = min(neighbours, counts.shape[1] - 1)
    if k <= 0:
        return np.zeros((2, 0), dtype=np.int64)
    top = np.argpartition(-counts, k, axis=1)[:, :k] if k < counts.shape[1] else np.argsort(-counts, axis=1)
    rows = np.repeat(np.arange(counts.shape[0]), top.shape[1])
    cols = top.ravel()
    keep = counts[rows, cols] > 0
    pairs = np.concatenate([np.stack([rows[keep], cols[keep]]), np.stack([cols[keep], rows[keep]])], axis=1)
    return np.unique(pairs, axis=1).astype(np.int64)


def text_neighbour_edges(text: np.ndarray, isolated: np.ndarray, anchors: np.ndarray, k: int) -> np.ndarray:
    """Edges anchor -> isolated item from each isolated item's k nearest anchors by cosine (inductive context)."""
    iso, anc = np.flatnonzero(isolated), np.flatnonzero(anchors)
    if k == 0 or len(iso) == 0 or len(anc) == 0:
        return np.zeros((2, 0), dtype=np.int64)
    k = min(k, len(anc))
    sims = text[iso] @ text[anc].T
    best = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return np.stack([anc[best].ravel(), np.repeat(iso, k)]).astype(np.int64)


def build_evidence(x: sp.csr_matrix, text: np.ndarray | None, cfg: TrainConfig) -> Evidence:
    """Evidence from a binary basket x item matrix; `text` (L2-normalised) links isolated items by text."""
    pop = np.asarray(x.sum(axis=0)).ravel()
    edges = copurchase_edges(x, cfg.neighbours, cfg.min_count)
    connected = np.zeros(x.shape[1], dtype=bool)
    connected[edges[0]] = True
    if text is not None:
        edges = np.concatenate([edges, text_neighbour_edges(text, ~connected, connected, cfg.text_neighbours)], axis=1)
    return Evidence(
        ease=torch.from_numpy(ease_weights((x.T @ x).toarray(), cfg.ease_lambda)) if cfg.use_ease else None,
        edge_index=torch.from_numpy(edges),
        log_pop=torch.from_numpy(np.log1p(pop).astype(np.float32)),
        seen=torch.from_numpy(pop > 0),
        text_sim=torch.from_numpy((text @ text.T).astype(np.float32)) if text is not None else None,
    )
