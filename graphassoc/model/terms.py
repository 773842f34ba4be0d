"""The hybrid scorer's terms, one small module each (HybridNet in net.py adds them up).

Every term scores a batch of queries (embedding_bag layout: flat item indices + offsets) against
`cols`, the catalogue columns being scored: all of them (None) at validation and scoring time, the
candidates of a sampled softmax while training on a large catalogue. Nothing is items x items.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from graphassoc.model.evidence import Evidence

# EASE scores are ~0.1-1; a softmax needs logit gaps of a few units, hence a start at 10.
EASE_ALPHA_START = 10.0
# c_j = 1 + g * tau / (pop_j + tau): start at g = 1, tau = 100 (g = 2 measured best on UCI, learned from 1).
SHORT_HISTORY_G_START, SHORT_HISTORY_TAU_START = 1.0, 100.0
# Gated tower (tower_items="all"): sigmoid(a + b log(1 + pop)), 0.5 for new items, ~0.1 at one basket.
GATE_START = (0.0, -3.0)
# Max text similarity to any query item separates new items far better than the mean-pooled tower
# (UCI test, never-seen HR@10: 0.24 with it alone vs 0.02 with the tower at scale 5).
MAX_SIMILARITY_START = 2.0
# Bound on the (query items x scored columns) similarity block computed at once (float32 entries).
SIMILARITY_BLOCK = 1 << 24


def pick(v: torch.Tensor, cols: torch.Tensor | None) -> torch.Tensor:
    """v restricted to the scored columns."""
    return v if cols is None else v[cols]


def basket_lengths(flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    return torch.diff(offsets, append=offsets.new_tensor([flat.numel()]))


class EaseTerm(nn.Module):
    """alpha * c_j * |q|^-1/2 sum_{i in q} B_ij: EASE's item-item weights, linear in the basket, with a
    per-item weight c_j lifting items with a short history (EASE's shrinkage pulls them down most)."""

    def __init__(self) -> None:
        super().__init__()
        self.log_alpha = nn.Parameter(torch.tensor(math.log(EASE_ALPHA_START)))
        self.log_short_history = nn.Parameter(torch.tensor([math.log(SHORT_HISTORY_G_START),
                                                            math.log(SHORT_HISTORY_TAU_START)]))

    def item_weight(self, ev: Evidence, cols: torch.Tensor | None = None) -> torch.Tensor:
        """c_j, larger for items with a short history."""
        g, tau = self.log_short_history.exp()
        return 1 + g * tau / (torch.expm1(pick(ev.log_pop, cols)) + tau)

    def forward(self, flat: torch.Tensor, offsets: torch.Tensor, ev: Evidence, cols: torch.Tensor | None) -> torch.Tensor:
        with torch.no_grad():  # B is fixed evidence: only alpha and c_j learn
            ease = ev.ease.basket_scores(flat, offsets, cols)
        return self.log_alpha.exp() * self.item_weight(ev, cols) * ease


class TowerTerm(nn.Module):
    """g(pop_j) * s * cos(W mean_{i in q} h_i, h_j): two-tower over GNN item vectors. tower_items="new":
    g = [pop_j == 0] (the tower scores exactly the items EASE cannot); "all": a learned popularity gate.

    `on` (1 or 0) is not learned: validation keeps the tower in the scores or leaves it out, with the
    new-item offset (model/validation.py). The tower learns the supervision window's new products, and
    on the next period's it can rank no better than chance: on the shared data's validation its
    ranking of never-seen targets among the new items reached HR@10 0.03 (the nearest-title term
    0.41). At x4 (shared data replicated) it learned an 8x larger scale and cost 0.009 valid HR@10 at the
    never-seen target (bench/bench_invariance.py)."""

    def __init__(self, hidden: int, items: str, scale: float) -> None:
        super().__init__()
        self.query_proj = nn.Linear(hidden, hidden)
        self.items = items
        self.gate = nn.Parameter(torch.tensor(GATE_START))
        self.log_scale = nn.Parameter(torch.tensor(math.log(scale)))
        self.register_buffer("on", torch.ones(()))

    def forward(self, pooled: torch.Tensor, h: torch.Tensor, ev: Evidence, cols: torch.Tensor | None) -> torch.Tensor:
        u = F.normalize(self.query_proj(pooled), dim=-1)
        if self.items == "new":
            gate = (~pick(ev.seen, cols)).to(h.dtype)
        else:
            gate = torch.sigmoid(self.gate[0] + self.gate[1] * pick(ev.log_pop, cols))
        return self.on * self.log_scale.exp() * (u @ F.normalize(pick(h, cols), dim=-1).T) * gate


def max_similarity(text: torch.Tensor, flat: torch.Tensor, offsets: torch.Tensor, cols: torch.Tensor | None,
                   weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per query and column j: max_{i in q} cos(t_i, t_j) and max_{i in q} weight_i * cos(t_i, t_j),
    exact, in blocks of queries so the (query items x columns) block stays under SIMILARITY_BLOCK."""
    from torch_geometric.utils import scatter

    base = pick(text, cols)
    lengths = basket_lengths(flat, offsets)
    per_block = max(1, SIMILARITY_BLOCK // max(1, base.shape[0]))
    # Consecutive queries grouped so each group holds about per_block query items.
    group = torch.div(offsets, per_block, rounding_mode="floor")
    bounds = torch.cat([torch.nonzero(torch.diff(group)).flatten() + 1, group.new_tensor([len(offsets)])]).tolist()
    outs, outs_w, start = [], [], 0
    for stop in bounds:
        a = int(offsets[start])
        b = int(offsets[stop]) if stop < len(offsets) else flat.numel()
        sims = text[flat[a:b]] @ base.T
        rows = torch.repeat_interleave(torch.arange(stop - start, device=flat.device), lengths[start:stop])
        outs.append(scatter(sims, rows, dim=0, dim_size=stop - start, reduce="max"))
        outs_w.append(scatter(sims * weight[flat[a:b]].unsqueeze(1), rows, dim=0, dim_size=stop - start, reduce="max"))
        start = stop
    return torch.cat(outs), torch.cat(outs_w)


class NewnessTerm(nn.Module):
    """[pop_j == 0] * (m * max_{i in q} cos(t_i, t_j) + w_nn * max_{i in q, new} cos(t_i, t_j) + w_frac * frac_new(q)):
    a new item is placed by its text's nearest query item, by the query's new items (a new range sells
    together) and by the query's share of new items (on the UCI test period P(hidden item is new) is
    0.03 for a basket without new items and 0.64 when half of it is new)."""

    def __init__(self) -> None:
        super().__init__()
        self.log_max_scale = nn.Parameter(torch.tensor(math.log(MAX_SIMILARITY_START)))

    def forward(self, item_bias: torch.Tensor, frac_new: torch.Tensor, nearest: torch.Tensor | None,
                nearest_new: torch.Tensor | None, new: torch.Tensor) -> torch.Tensor:
        terms = item_bias[2] * frac_new
        if nearest is not None:
            terms = terms + self.log_max_scale.exp() * nearest + item_bias[3] * nearest_new
        return terms * new


class ItemBias(nn.Module):
    """w_pop * log(1 + pop_j) (tower_items="all" only: with "new", warm items keep EASE's order) +
    (w_new + offset) * [pop_j == 0]. The offset is not learned: set on validation (model/calibrate.py).
    `weights` also holds the newness term's two weights (w_frac, w_nn): one vector, as saved models hold it."""

    def __init__(self, tower_items: str) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(4))  # w_pop, w_new, w_frac, w_nn
        self.register_buffer("new_offset", torch.zeros(()))
        self.tower_items = tower_items

    def forward(self, ev: Evidence, cols: torch.Tensor | None = None) -> torch.Tensor:
        new = (~pick(ev.seen, cols)).to(self.weights.dtype)
        newness = (self.weights[1] + self.new_offset) * new
        if self.tower_items == "new":
            return newness
        return self.weights[0] * pick(ev.log_pop, cols) + newness
