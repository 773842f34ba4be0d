"""The EASE term of query items without sales history ("cold" items): their text neighbours' rows.

A product never bought in the evidence window has an empty EASE row. As a one-item query (its
related list, item-to-basket) every item with history then scored the same (0: the tower and the
text terms score new items only), and the popularity tie-break filled the list: every new product
got the same best sellers (JUMBO BAG RED RETROSPOT, PARTY BUNTING, ...). Here a cold query item
borrows the rows of its `k` nearest items with history by text, softmax-weighted by similarity at
NEIGHBOUR_TEMPERATURE, as a free text is scored (TrainedModel.score_texts): its related items
become what its look-alikes are bought with. Only the query side changes; items with history
answer exactly as before.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from graphassoc.model.evidence import Evidence

# Softmax temperature over the neighbours' cosines (0.05: the nearest dominates unless others are nearly as close).
NEIGHBOUR_TEMPERATURE = 0.05


def text_neighbours(vectors: torch.Tensor, text: torch.Tensor, seen: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each vector's k nearest items with history (any item when none has) by cosine to the rows of
    `text` (unit norm), and their softmax weights."""
    pool = torch.nonzero(seen).flatten() if bool(seen.any()) else torch.arange(len(seen))
    top_sims, top = (vectors @ text[pool].T).topk(min(max(k, 1), len(pool)), dim=1)
    return pool[top], F.softmax(top_sims / NEIGHBOUR_TEMPERATURE, dim=1)


def borrowed_rows(ev: Evidence, flat: torch.Tensor, offsets: torch.Tensor, k: int) -> torch.Tensor | None:
    """(n_queries, n) per query: the sum over its cold items of their neighbours' weighted EASE rows,
    divided by sqrt(basket size) as the EASE term divides its own sum; None when no query holds a cold item."""
    if ev.ease is None or ev.text is None or k == 0:
        return None
    cold = ~ev.seen[flat]
    if not bool(cold.any()) or not bool(ev.seen.any()):
        return None
    lengths = torch.diff(offsets, append=offsets.new_tensor([flat.numel()]))
    query_of = torch.repeat_interleave(torch.arange(len(offsets)), lengths)[cold]
    items = flat[cold]
    neighbours, weights = text_neighbours(ev.text[items], ev.text, ev.seen, k)
    unique, where = torch.unique(neighbours, return_inverse=True)
    # Query x distinct-neighbour coefficients, then one product with the few neighbours' rows (never the whole B).
    coef = torch.zeros(len(offsets), len(unique))
    coef.index_put_((query_of.repeat_interleave(neighbours.shape[1]), where.flatten()), weights.flatten(), accumulate=True)
    mixed = coef @ torch.from_numpy(ev.ease.rows(unique.numpy()))
    return mixed * lengths.clamp(min=1).to(torch.float32).rsqrt().unsqueeze(1)
