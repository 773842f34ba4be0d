"""The hybrid scorer: a GNN two-tower term over text (+ id) features, blended with a linear EASE term.

score(q, j) = alpha * c_j * |q|^-1/2 sum_{i in q} B_ij       (item-item, linear in the basket, like EASE)
            + g(pop_j) * s * cos(W mean_{i in q} h_i, h_j)     (two-tower over GNN item vectors h)
            + [pop_j == 0] * m * max_{i in q} cos(t_i, t_j)    (nearest query item by text t, new items only)
            + w_pop * log(1 + pop_j) + w_new * [pop_j == 0]    (popularity and newness of j in the evidence)
            + w_frac * frac_new(q) * [pop_j == 0]               (a basket of new products completes with new ones)
            + w_nn * [pop_j == 0] * max_{i in q, pop_i == 0} cos(t_i, t_j)   (same new collection)

c_j = 1 + g * tau / (pop_j + tau) lifts items with a short history: EASE's shrinkage (lambda) pulls
their weights down more than the head's. On the UCI split, g = 2, tau = 100 lifted EASE's HR@10 on
warm targets from 0.362 to 0.367 (valid) and 0.310 to 0.318 (test); both are learned from g = 1, tau = 100.

The EASE sum is divided by sqrt(|q|), as FISM normalises its basket sum (|q|^-alpha, alpha ~ 0.5):
within a basket the order of items with history is EASE's, but the other terms (text similarity,
newness) do not grow with the basket. With EASE's plain sum a single-item query was answered by new
products (28% of the related lists of items with history; UCI item-to-basket HR@10 0.58 vs EASE's
0.62). Measured on the UCI test split (frozen mode, one seed each), basket completion HR@10 /
never-seen / item-to-basket HR@10: sum 0.303 / 0.260 / 0.58, mean 0.295 / 0.251 / -,
sqrt 0.306 / 0.279 / 0.626.

g(pop) gates the tower. Where an item has co-purchase history the closed-form term is hard to beat
on the head of the ranking, and a free tower term there adds noise: on the full UCI data, valid
HR@10 fell from 0.34 (EASE alone) to 0.28 with an ungated tower and to 0.30 with a learned gate
sigmoid(a + b log(1 + pop)) (tower_items="all": the softmax opens it to fit the supervision window).
Default tower_items="new": g = [pop_j == 0], so the tower (text + graph context) scores exactly the
items the co-occurrence term cannot, and learns to place them among the warm ones.

h = x + GNN(x) on the evidence graph, x = text projection (+ id embedding of items with history).
The tower carries items without history (new products): their graph context is their text neighbours.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from graphassoc.model.config import TrainConfig
from graphassoc.model.evidence import Evidence
from graphassoc.model.gnn import GNNS


class HybridNet(nn.Module):
    def __init__(self, n_items: int, text_dim: int, cfg: TrainConfig) -> None:
        super().__init__()
        self.text_proj = nn.Linear(text_dim, cfg.hidden) if cfg.use_text else None
        self.id_embedding = nn.Embedding(n_items, cfg.hidden) if cfg.use_id_embedding else None
        if self.id_embedding is not None:
            nn.init.normal_(self.id_embedding.weight, std=0.01)
        self.gnn = GNNS.get(cfg.gnn)(cfg.hidden, cfg.hidden, cfg.layers, cfg.dropout)
        self.query_proj = nn.Linear(cfg.hidden, cfg.hidden)
        self.dropout = nn.Dropout(cfg.dropout)
        self.tower_items = cfg.tower_items
        # EASE scores are ~0.1-1; a softmax needs logit gaps of a few units, hence a start at 10.
        self.log_alpha = nn.Parameter(torch.tensor(math.log(10.0)))
        self.log_short_history = nn.Parameter(torch.tensor([0.0, math.log(100.0)]))  # log g, log tau of c_j
        # Weights of log(1 + pop_j), [pop_j == 0] and frac_new(q) * [pop_j == 0]. The last is the query's share of
        # new items: on the UCI test period P(hidden item is new) is 0.03 for a basket without new items and
        # 0.64 when half of it is new, so how many new items belong in the top 10 depends on the basket.
        # The fourth weighs the text similarity to the query's new items only (a new range sells together).
        self.item_bias = nn.Parameter(torch.zeros(4))
        # Gate starts at 0.5 for new items, ~0.1 at one basket, ~0 for popular ones (see module doc).
        self.gate = nn.Parameter(torch.tensor([0.0, -3.0]))
        self.log_tower_scale = nn.Parameter(torch.tensor(math.log(cfg.tower_scale)))
        # Max text similarity to any query item separates new items far better than the mean-pooled
        # tower (UCI test, never-seen HR@10: 0.24 with it alone vs 0.02 with the tower at scale 5).
        self.log_max_scale = nn.Parameter(torch.tensor(math.log(2.0)))
        # Not learned: set on validation after training (graphassoc/model/calibrate.py).
        self.register_buffer("new_offset", torch.zeros(()))

    def item_vectors(self, text: torch.Tensor | None, ev: Evidence) -> torch.Tensor:
        """(n, hidden) vectors of every catalogue item on the evidence graph."""
        x = 0.0
        if self.text_proj is not None and text is not None:
            x = self.text_proj(text)
        if self.id_embedding is not None:
            # Only items with history have a meaningful id; a new item must not use an untrained row.
            ids = self.id_embedding.weight
            if len(ev.seen) > len(ids):  # extra nodes (texts scored inductively) have no id
                ids = torch.cat([ids, ids.new_zeros(len(ev.seen) - len(ids), ids.shape[1])])
            x = x + ids * ev.seen.unsqueeze(1).to(ids.dtype)
        x = self.dropout(x)
        return x + self.gnn(x, ev.edge_index)

    def tower(self, pooled: torch.Tensor, h: torch.Tensor, ev: Evidence) -> torch.Tensor:
        """Gated two-tower term for query vectors `pooled` (mean of the query items' h)."""
        u = F.normalize(self.query_proj(pooled), dim=-1)
        if self.tower_items == "new":
            gate = (~ev.seen).to(h.dtype)
        else:
            gate = torch.sigmoid(self.gate[0] + self.gate[1] * ev.log_pop)
        return self.log_tower_scale.exp() * (u @ F.normalize(h, dim=-1).T) * gate

    def score(self, h: torch.Tensor, flat: torch.Tensor, offsets: torch.Tensor, ev: Evidence) -> torch.Tensor:
        """(n_queries, n) scores for queries given as flattened item indices + offsets (embedding_bag layout)."""
        scores = self.tower(F.embedding_bag(flat, h, offsets, mode="mean"), h, ev)
        new = (~ev.seen).to(scores.dtype)
        frac_new = F.embedding_bag(flat, new.unsqueeze(1), offsets, mode="mean")  # (n_queries, 1)
        nearest = nearest_new = None
        if ev.text_sim is not None:
            nearest = F.embedding_bag(flat, ev.text_sim, offsets, mode="max")
            nearest_new = F.embedding_bag(flat, ev.text_sim * new.unsqueeze(1), offsets, mode="max")
        scores = scores + self.newness(frac_new, nearest, nearest_new, new)
        if ev.ease is not None:
            lengths = torch.diff(offsets, append=offsets.new_tensor([flat.numel()])).clamp(min=1).to(scores.dtype)
            ease = F.embedding_bag(flat, ev.ease, offsets, mode="sum") / lengths.sqrt().unsqueeze(1)
            scores = scores + self.log_alpha.exp() * self.ease_weight(ev) * ease
        return scores + self.bias(ev)

    def newness(self, frac_new: torch.Tensor, nearest: torch.Tensor | None, nearest_new: torch.Tensor | None,
                new: torch.Tensor) -> torch.Tensor:
        """The query-dependent terms of new items: share of new items in the query, max text similarity
        to its items and to its new items (None without text)."""
        terms = self.item_bias[2] * frac_new
        if nearest is not None:
            terms = terms + self.log_max_scale.exp() * nearest + self.item_bias[3] * nearest_new
        return terms * new

    def ease_weight(self, ev: Evidence) -> torch.Tensor:
        """c_j: the EASE term's per-item weight, larger for items with a short history."""
        g, tau = self.log_short_history.exp()
        return 1 + g * tau / (torch.expm1(ev.log_pop) + tau)

    def bias(self, ev: Evidence) -> torch.Tensor:
        new = (~ev.seen).to(self.item_bias.dtype)
        newness = (self.item_bias[1] + self.new_offset) * new
        if self.tower_items == "new":  # warm items keep the closed-form order untouched
            return newness
        return self.item_bias[0] * ev.log_pop + newness


def bag(queries: list, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Flattened indices and offsets of a list of item-index arrays."""
    lengths = [len(q) for q in queries]
    flat = torch.as_tensor([int(i) for q in queries for i in q], dtype=torch.long, device=device)
    offsets = torch.zeros(len(queries), dtype=torch.long, device=device)
    if len(queries) > 1:
        offsets[1:] = torch.cumsum(torch.as_tensor(lengths[:-1], device=device), 0)
    return flat, offsets


def mask_queries(scores: torch.Tensor, flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """The query's own items get -inf: they are never the answer."""
    lengths = torch.diff(offsets, append=torch.tensor([flat.numel()], device=flat.device))
    rows = torch.repeat_interleave(torch.arange(len(offsets), device=flat.device), lengths)
    return scores.index_put((rows, flat), torch.tensor(float("-inf"), device=scores.device, dtype=scores.dtype))
