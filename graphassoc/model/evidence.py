"""What the model reads at scoring time, built from a window of baskets that never holds its targets.

Training: evidence = the earlier train baskets, targets = the later ones. Validation: evidence =
train, targets = valid. Deployment (load_model): evidence = train + valid, as the protocol allows.

Nothing here is items x items dense except where the catalogue is small: the EASE weights come from
graph/ease.py's fit_ease (dense closed form while it fits, sparse neighbourhood EASE at size); the
co-purchase graph is the sparse gram (computed once, shared with EASE) pruned to each item's top
partners, block by block; the text
neighbours of isolated items come from text/neighbours.py's nearest (exact blocks, faiss at size);
the max-text-similarity term is computed per batch over the columns being scored (model/terms.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from graphassoc.graph.ease import fit_ease_gram, gram
from graphassoc.graph.ease_config import EaseConfig
from graphassoc.memory import available_bytes
from graphassoc.model.config import TrainConfig
from graphassoc.text.neighbours import nearest
from graphassoc.text.neighbours_config import NeighboursConfig
from graphassoc.threads import thread_map

# Rows of the gram X^T X computed at once when pruning it to each item's top partners: bounds the
# transient sparse block (a block of 2,048 rows of the UCI gram is ~1.5M non-zeros).
GRAM_BLOCK_ROWS = 2048
# Largest items x new-items similarity table kept (float32 entries, 4 GB; and at most a quarter of the memory
# available): the UCI run's is 3.9k x ~400, replicated 16 times 62k x ~6k (1.6 GB). Beyond it the term is
# computed per batch, which costs query items x new items x dim per scoring pass.
TEXT_TABLE_ENTRIES = 1 << 30


@dataclass
class Evidence:
    ease: "EaseWeights | None"  # B[i, j]: weight of query item i for target j; None when use_ease is off
    edge_index: torch.Tensor  # (2, E) message-passing edges, source -> target
    log_pop: torch.Tensor  # (n,) log(1 + baskets holding the item)
    seen: torch.Tensor  # (n,) bool: the item occurs in the evidence window
    text: torch.Tensor | None = None  # (n, d) unit-norm item texts (max-similarity term for new items)
    # cos(t_i, t_j) for every item i (rows; one extra zero row at n) and every new item j (columns, in
    # new_index order): the max-similarity term as table lookups. None when n x n_new exceeds
    # TEXT_TABLE_ENTRIES: the term is then computed per batch (terms.max_similarity).
    new_sim: torch.Tensor | None = None

    @property
    def n_items(self) -> int:
        return len(self.seen)

    def to(self, device: torch.device) -> "Evidence":
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Evidence(None if self.ease is None else self.ease.to(device), self.edge_index.to(device),
                        self.log_pop.to(device), self.seen.to(device), move(self.text), move(self.new_sim))

    def new_position(self) -> torch.Tensor:
        """(n,) each new item's column in new_sim, -1 for items with history."""
        pos = torch.full((self.n_items,), -1, dtype=torch.long, device=self.seen.device)
        new = torch.nonzero(~self.seen).flatten()
        pos[new] = torch.arange(len(new), device=pos.device)
        return pos

    def adjacency(self) -> torch.Tensor:
        """The graph as a sparse CSR adj_t (row = target, column = source) for PyG's sparse message passing:
        aggregation is one sparse x dense product, never an E x hidden message tensor."""
        n, (src, dst) = self.n_items, self.edge_index
        order = torch.argsort(dst * n + src)
        crow = torch.zeros(n + 1, dtype=torch.long, device=dst.device)
        crow[1:] = torch.cumsum(torch.bincount(dst, minlength=n), 0)
        values = torch.ones(len(order), device=dst.device)
        # Built sorted and in range here, so the invariant check is skipped; torch's "CSR is beta" notice is
        # not for our users (the product is tested against the edge_index path: tests/model/test_terms.py).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(crow, src[order], values, (n, n), check_invariants=False)


class EaseWeights:
    """EASE's item-item weights, dense (small catalogues) or sparse CSR; applied to a batch of baskets."""

    def __init__(self, b: np.ndarray | sp.csr_matrix) -> None:
        self.dense = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)) if isinstance(b, np.ndarray) else None
        self.sparse = None if isinstance(b, np.ndarray) else sp.csr_matrix(b, dtype=np.float32)

    def to(self, device: torch.device) -> "EaseWeights":
        if self.dense is not None:
            self.dense = self.dense.to(device)
        return self

    def basket_scores(self, flat: torch.Tensor, offsets: torch.Tensor, cols: torch.Tensor | None) -> torch.Tensor:
        """(n_queries, n_cols) sum over each basket's items of B[i, cols], divided by sqrt(basket size)."""
        lengths = torch.diff(offsets, append=offsets.new_tensor([flat.numel()])).clamp(min=1)
        scale = lengths.to(torch.float32).rsqrt().unsqueeze(1)
        if self.dense is not None:
            import torch.nn.functional as F

            out = F.embedding_bag(flat, self.dense, offsets, mode="sum") * scale
            return out if cols is None else out[:, cols]
        rows = np.repeat(np.arange(len(offsets)), lengths.cpu().numpy())
        q = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, flat.cpu().numpy())),
                          shape=(len(offsets), self.sparse.shape[0]))
        prod = q @ self.sparse  # the batch's rows first (each B row has ~ease.neighbours entries), then columns
        prod = prod if cols is None else prod[:, cols.cpu().numpy()]
        out = torch.from_numpy(np.asarray(prod.todense(), dtype=np.float32)).to(flat.device)
        return out * scale

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """Dense rows B[idx, :] (a few items' weights, e.g. the text neighbours of a free-text query)."""
        if self.dense is not None:
            return self.dense[torch.as_tensor(idx)].cpu().numpy()
        return np.asarray(self.sparse[idx].todense(), dtype=np.float32)

    def tensors(self) -> dict[str, torch.Tensor]:
        """For saving with a model (safetensors): dense, or the CSR's three arrays."""
        if self.dense is not None:
            return {"ease.dense": self.dense}
        b = self.sparse
        return {"ease.data": torch.from_numpy(b.data), "ease.indices": torch.from_numpy(b.indices.astype(np.int64)),
                "ease.indptr": torch.from_numpy(b.indptr.astype(np.int64)),
                "ease.shape": torch.tensor(b.shape, dtype=torch.int64)}

    @classmethod
    def from_tensors(cls, t: dict[str, torch.Tensor]) -> "EaseWeights":
        if "ease.dense" in t:
            return cls(t["ease.dense"].numpy())
        shape = tuple(int(v) for v in t["ease.shape"])
        return cls(sp.csr_matrix((t["ease.data"].numpy(), t["ease.indices"].numpy(), t["ease.indptr"].numpy()), shape=shape))


def top_partners(g: sp.csr_matrix, k: int, min_count: int) -> sp.csr_matrix:
    """Each item's k strongest co-purchase partners (count >= min_count, self excluded) as a sparse
    item x item matrix, from the gram `g` (graph/ease.py's gram) GRAM_BLOCK_ROWS rows at a time."""

    def block(start: int) -> sp.csr_matrix:
        stop = min(start + GRAM_BLOCK_ROWS, g.shape[0])
        part = g[start:stop].tocoo()
        keep = (part.data >= min_count) & (part.row + start != part.col)
        row, col, val = part.row[keep], part.col[keep], part.data[keep]
        order = np.lexsort((col, -val, row))  # by row, strongest first; ties: lower column first
        row, col, val = row[order], col[order], val[order]
        first = np.searchsorted(row, np.arange(stop - start))
        rank = np.arange(len(row)) - first[row]
        top = rank < k
        return sp.csr_matrix((val[top], (row[top], col[top])), shape=(stop - start, g.shape[1]))

    blocks = thread_map(block, range(0, g.shape[0], GRAM_BLOCK_ROWS))
    return sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, g.shape[1]))


def copurchase_edges(g: sp.csr_matrix, neighbours: int, min_count: int) -> np.ndarray:
    """Each item's strongest co-purchase partners (count >= min_count) in the gram `g`, both directions,
    deduplicated."""
    top = top_partners(g, min(neighbours, max(g.shape[1] - 1, 0)), min_count).tocoo()
    pairs = np.concatenate([np.stack([top.row, top.col]), np.stack([top.col, top.row])], axis=1)
    return np.unique(pairs, axis=1).astype(np.int64)


def text_neighbour_edges(text: np.ndarray, isolated: np.ndarray, anchors: np.ndarray, k: int,
                         neighbours: NeighboursConfig | None = None) -> np.ndarray:
    """Edges anchor -> isolated item from each isolated item's k nearest anchors by cosine (inductive context)."""
    iso, anc = np.flatnonzero(isolated), np.flatnonzero(anchors)
    if k == 0 or len(iso) == 0 or len(anc) == 0:
        return np.zeros((2, 0), dtype=np.int64)
    k = min(k, len(anc))
    best, _ = nearest(text[iso], text[anc], k, cfg=neighbours)
    return np.stack([anc[best].ravel(), np.repeat(iso, k)]).astype(np.int64)


def build_evidence(x: sp.csr_matrix, text: np.ndarray | None, cfg: TrainConfig, ease: EaseConfig | None = None,
                   neighbours: NeighboursConfig | None = None) -> Evidence:
    """Evidence from a binary basket x item matrix; `text` (L2-normalised) links isolated items by text.
    `ease` / `neighbours`: the run's ease and text.neighbours settings (dense or sparse, exact or HNSW)."""
    g = gram(x)  # co-occurrence counts, shared by the graph's edges and the EASE fit
    pop = np.asarray(sp.csr_matrix(x).sum(axis=0)).ravel()
    edges = copurchase_edges(g, cfg.neighbours, cfg.min_count)
    connected = np.zeros(x.shape[1], dtype=bool)
    connected[edges[0]] = True
    if text is not None:
        edges = np.concatenate([edges, text_neighbour_edges(text, ~connected, connected, cfg.text_neighbours, neighbours)], axis=1)
    return Evidence(
        ease=EaseWeights(fit_ease_gram(g, cfg.ease_lambda, ease)) if cfg.use_ease else None,
        edge_index=torch.from_numpy(edges),
        log_pop=torch.from_numpy(np.log1p(pop).astype(np.float32)),
        seen=torch.from_numpy(pop > 0),
        text=torch.from_numpy(np.ascontiguousarray(text, dtype=np.float32)) if text is not None else None,
        new_sim=new_similarity_table(text, pop == 0) if text is not None else None,
    )


def new_similarity_table(text: np.ndarray, new: np.ndarray) -> torch.Tensor | None:
    """(n + 1, n_new) cosines of every item to every new item, a zero row appended; None when too large."""
    n, cols = len(text), np.flatnonzero(new)
    entries = (n + 1) * len(cols)
    if entries > TEXT_TABLE_ENTRIES or 4.0 * entries > 0.25 * available_bytes():
        return None
    table = np.zeros((n + 1, len(cols)), dtype=np.float32)
    table[:n] = text @ text[cols].T
    return torch.from_numpy(table)
