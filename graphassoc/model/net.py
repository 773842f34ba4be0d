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

import torch
import torch.nn.functional as F
from torch import nn

from graphassoc.model.config import TrainConfig
from graphassoc.model.evidence import Evidence
from graphassoc.model.gnn import GNNS, SPARSE_GNNS
from graphassoc.model.terms import EaseTerm, ItemBias, NewnessTerm, TowerTerm, max_similarity, pick


class HybridNet(nn.Module):
    def __init__(self, n_items: int, text_dim: int, cfg: TrainConfig) -> None:
        super().__init__()
        self.text_proj = nn.Linear(text_dim, cfg.hidden) if cfg.use_text else None
        self.id_embedding = nn.Embedding(n_items, cfg.hidden) if cfg.use_id_embedding else None
        if self.id_embedding is not None:
            nn.init.normal_(self.id_embedding.weight, std=0.01)
        self.gnn = GNNS.get(cfg.gnn)(cfg.hidden, cfg.hidden, cfg.layers, cfg.dropout)
        self.sparse_graph = cfg.gnn in SPARSE_GNNS
        self.tower = TowerTerm(cfg.hidden, cfg.tower_items, cfg.tower_scale)
        self.dropout = nn.Dropout(cfg.dropout)
        self.ease = EaseTerm()
        self.newness = NewnessTerm()
        self.bias = ItemBias(cfg.tower_items)

    @property
    def new_offset(self) -> torch.Tensor:
        return self.bias.new_offset

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        """load_state_dict; a model saved before the tower's switch existed had the tower on."""
        self.load_state_dict({"tower.on": torch.ones(()), **tensors})

    def scalars(self) -> list[nn.Parameter]:
        """The blend scalars (alpha, gate, biases, scales): the optimiser gives them a larger rate, no decay."""
        return [self.ease.log_alpha, self.ease.log_short_history, self.bias.weights, self.tower.gate,
                self.tower.log_scale, self.newness.log_max_scale]

    def item_vectors(self, text: torch.Tensor | None, ev: Evidence, adj: torch.Tensor | None = None) -> torch.Tensor:
        """(n, hidden) vectors of every catalogue item on the evidence graph (`adj`: ev.adjacency(), reusable)."""
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
        if self.sparse_graph:
            return x + self.gnn(x, adj if adj is not None else ev.adjacency())
        return x + self.gnn(x, ev.edge_index)

    def score(self, h: torch.Tensor, flat: torch.Tensor, offsets: torch.Tensor, ev: Evidence,
              cols: torch.Tensor | None = None) -> torch.Tensor:
        """(n_queries, n_cols) scores of queries (flattened item indices + offsets, embedding_bag layout)
        against the catalogue columns `cols` (None: all)."""
        pooled = F.embedding_bag(flat, h, offsets, mode="mean")
        new = (~ev.seen).to(pooled.dtype)
        frac_new = F.embedding_bag(flat, new.unsqueeze(1), offsets, mode="mean")  # (n_queries, 1)
        n_cols = ev.n_items if cols is None else len(cols)
        if self.tower.items == "new":
            # The tower and the text terms are zero on items with history: score only the new columns.
            where = torch.nonzero(~pick(ev.seen, cols)).flatten()
            sub = where if cols is None else cols[where]
            part = self.tower(pooled, h, ev, sub) + self.new_item_terms(flat, offsets, ev, sub, frac_new, new)
            scores = pooled.new_zeros(len(offsets), n_cols).index_copy(1, where, part)
        else:
            scores = self.tower(pooled, h, ev, cols) + self.new_item_terms(flat, offsets, ev, cols, frac_new, new)
        if ev.ease is not None:
            scores = scores + self.ease(flat, offsets, ev, cols)
        return scores + self.bias(ev, cols)

    def new_item_terms(self, flat: torch.Tensor, offsets: torch.Tensor, ev: Evidence, cols: torch.Tensor | None,
                       frac_new: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """NewnessTerm on the columns `cols`, its text similarities from the table or computed per batch."""
        nearest = nearest_new = None
        if ev.text is not None:
            with torch.no_grad():
                nearest, nearest_new = text_similarities(ev, flat, offsets, cols, new)
        return self.newness(self.bias.weights, frac_new, nearest, nearest_new, pick(new, cols))


def text_similarities(ev: Evidence, flat: torch.Tensor, offsets: torch.Tensor, cols: torch.Tensor | None,
                      new: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """max_{i in q} cos(t_i, t_j) and the same over the query's new items (0 where it has none with
    a larger cosine), for every query and column j; columns with history get 0 (the term ignores them)."""
    if ev.new_sim is None:
        return max_similarity(ev.text, flat, offsets, cols, new)
    n_cols = ev.n_items if cols is None else len(cols)
    col_pos = pick(ev.new_position(), cols)
    where = torch.nonzero(col_pos >= 0).flatten()
    idx = col_pos[where]
    whole = len(idx) == ev.new_sim.shape[1] and bool((idx == torch.arange(len(idx), device=idx.device)).all())
    table = ev.new_sim if whole else ev.new_sim[:, idx]  # every new column in order: no copy
    only_new = torch.where(ev.seen[flat], torch.full_like(flat, ev.n_items), flat)  # row n: zeros
    out = []
    for items in (flat, only_new):
        vals = F.embedding_bag(items, table, offsets, mode="max")
        out.append(vals.new_zeros(len(offsets), n_cols).index_copy(1, where, vals))
    return out[0], out[1]


def bag(queries: list, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Flattened indices and offsets of a list of item-index arrays."""
    lengths = [len(q) for q in queries]
    flat = torch.as_tensor([int(i) for q in queries for i in q], dtype=torch.long, device=device)
    offsets = torch.zeros(len(queries), dtype=torch.long, device=device)
    if len(queries) > 1:
        offsets[1:] = torch.cumsum(torch.as_tensor(lengths[:-1], device=device), 0)
    return flat, offsets


def mask_queries(scores: torch.Tensor, flat: torch.Tensor, offsets: torch.Tensor,
                 cols: torch.Tensor | None = None) -> torch.Tensor:
    """The query's own items get -inf: they are never the answer (`cols`: the scored columns, None = all)."""
    lengths = torch.diff(offsets, append=torch.tensor([flat.numel()], device=flat.device))
    rows = torch.repeat_interleave(torch.arange(len(offsets), device=flat.device), lengths)
    if cols is None:
        return scores.index_put((rows, flat), torch.tensor(float("-inf"), device=scores.device, dtype=scores.dtype))
    position = torch.full((len(cols) and int(cols.max()) + 1,), -1, dtype=torch.long, device=flat.device)
    position[cols] = torch.arange(len(cols), device=flat.device)
    where = position[flat.clamp(max=len(position) - 1)]
    hit = (flat < len(position)) & (where >= 0)
    return scores.index_put((rows[hit], where[hit]), torch.tensor(float("-inf"), device=scores.device, dtype=scores.dtype))
