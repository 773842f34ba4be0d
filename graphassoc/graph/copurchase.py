"""Co-purchase graph from train baskets, via a sparse basket x item matrix (no Python loops over pairs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from graphassoc.graph.config import GraphConfig
from graphassoc.runs import write_parquet


def basket_matrix(item_lists: pl.Series, item_index: Mapping[str, int], n_items: int) -> sp.csr_matrix:
    """Binary float32 CSR matrix: one row per basket, column item_index[item].

    Items outside `item_index` are ignored; an item listed twice in a basket counts once.
    """
    ids = list(item_index.keys())
    cols_of_code = np.fromiter(item_index.values(), dtype=np.int64, count=len(ids))
    flat = pl.DataFrame({"items": item_lists}).with_row_index("row").explode("items")
    # An Enum over the index's ids turns each id into its position in `ids` in one vectorised cast;
    # ids outside the index become null and are dropped.
    coded = flat.select("row", pl.col("items").cast(pl.String).cast(pl.Enum(ids), strict=False).to_physical().alias("code"))
    coded = coded.drop_nulls()
    rows = coded["row"].to_numpy()
    cols = cols_of_code[coded["code"].to_numpy()]
    data = np.ones(len(rows), dtype=np.float32)
    x = sp.csr_matrix((data, (rows, cols)), shape=(len(item_lists), n_items))  # sums repeated items ...
    x.data[:] = 1.0  # ... which count once
    return x


@dataclass
class CopurchaseGraph:
    nodes: pl.DataFrame
    edges: pl.DataFrame
    n_baskets: int

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        write_parquet(directory / "nodes.parquet", self.nodes)
        write_parquet(directory / "edges.parquet", self.edges)

    @classmethod
    def load(cls, directory: Path) -> "CopurchaseGraph":
        return cls(pl.read_parquet(directory / "nodes.parquet"), pl.read_parquet(directory / "edges.parquet"), -1)

    def stats(self) -> dict[str, Any]:
        n = self.nodes.height
        src = self.edges["src_idx"].to_numpy()
        dst = self.edges["dst_idx"].to_numpy()
        adj = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
        n_comp, labels = connected_components(adj, directed=False)
        degree = self.nodes["degree"].to_numpy()
        sizes = np.bincount(labels)
        return {
            "nodes": n,
            "edges": self.edges.height,
            "isolated_nodes": int((degree == 0).sum()),
            "components": int(n_comp),
            "largest_component": int(sizes.max()) if n else 0,
            "degree_quantiles": {q: float(np.quantile(degree, float(q))) for q in ("0.5", "0.9", "0.99", "1.0")} if n else {},
        }


# Bytes per co-occurrence entry while a block is multiplied and filtered (scipy's int32 indices and
# data, the COO copy, the boolean masks), and per kept edge (two int32 ends, an int64 count, seven
# float64 measures, and the two id strings of the edge table).
BLOCK_ENTRY_BYTES = 40
EDGE_BYTES = 120


def pair_counts(x: sp.csr_matrix, min_count: int, block_entries: int = 50_000_000) -> tuple[np.ndarray, ...]:
    """(i, j, count) for every item pair i < j seen together in >= min_count baskets, sorted by (i, j).

    x is the binary basket x item matrix. The item x item product is never held whole: items are
    taken in row blocks of xt = x^T, and block [a, b) is multiplied only with the columns >= a,
    its counts filtered by min_count at once. A block is sized so that its products (the sum over
    its items of the sizes of the baskets holding them, an upper bound on its non-zeros) stay
    near `block_entries`; memory is O(lines + kept edges + one block), time O(sum of basket size^2).
    """
    from graphassoc.memory import check_fits

    xt = x.T.tocsr().astype(np.int32)  # int32 counts: exact, unlike float32 above 2^24 baskets
    sizes = np.diff(x.indptr).astype(np.int64)
    work = xt @ sizes  # per item: products its row block adds
    bounds = _blocks(work, block_entries)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    kept = 0
    for a, b in zip(bounds[:-1], bounds[1:]):
        check_fits(float(work[a:b].sum()) * BLOCK_ENTRY_BYTES + kept * EDGE_BYTES,
                   f"counting the co-purchase pairs of items {a:,}-{b:,} ({kept:,} edges kept so far)",
                   "raise graph.min_count, set graph.top_k, or drop giant baskets with clean.max_basket_size")
        block = (xt[a:b] @ xt[a:].T).tocsr()  # rows: items a..b-1, columns: items a..n-1
        block.sort_indices()  # rows ascending, columns ascending inside a row: edges come out sorted
        i = np.repeat(np.arange(a, b, dtype=np.int32), np.diff(block.indptr))
        keep = block.data >= min_count
        i, j, c = i[keep], block.indices[keep].astype(np.int32) + a, block.data[keep].astype(np.int64)
        upper = j > i
        parts.append((i[upper], j[upper], c[upper]))
        kept += int(upper.sum())
    if not parts:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64)
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def _blocks(work: np.ndarray, block_entries: int) -> list[int]:
    """Row-block bounds [0, ..., n]: consecutive items whose work adds up to about block_entries."""
    n = len(work)
    if n == 0:
        return [0]
    cum = np.cumsum(work)
    cuts = np.searchsorted(cum, np.arange(block_entries, cum[-1], block_entries), side="right")
    return sorted({0, n, *(int(c) for c in cuts if 0 < c < n)})


def top_k_edges(i: np.ndarray, j: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Mask of the edges among the k heaviest (count, then the other end's index) of either end."""
    ends = pl.DataFrame({"e": np.concatenate([np.arange(len(c))] * 2), "a": np.concatenate([i, j]),
                         "b": np.concatenate([j, i]), "c": np.concatenate([c, c])})
    ranked = ends.sort(["a", "c", "b"], descending=[False, True, False]).with_columns(
        pl.int_range(pl.len()).over("a").alias("rank"))
    mask = np.zeros(len(c), dtype=bool)
    mask[ranked.filter(pl.col("rank") < k)["e"].to_numpy()] = True
    return mask


def build_copurchase(items: pl.DataFrame, train_baskets: pl.DataFrame, cfg: GraphConfig) -> CopurchaseGraph:
    """Edges between items seen together in >= min_count train baskets, with association measures
    (with graph.top_k, only each item's k heaviest edges, see top_k_edges).

    Every item of `items` is a node, in its row order; items never sold in train are nodes without edges.
    """
    index = dict(zip(items["item_id"].to_list(), range(items.height)))
    x = basket_matrix(train_baskets["items"], index, items.height)
    n_baskets = x.shape[0]
    item_count = np.bincount(x.indices, minlength=items.height).astype(np.int64)
    i, j, c = pair_counts(x, cfg.min_count)
    if cfg.top_k is not None:
        keep = top_k_edges(i, j, c, cfg.top_k)
        i, j, c = i[keep], j[keep], c[keep]

    return graph_from_pairs(items, i, j, c, item_count, n_baskets)


def graph_from_pairs(items: pl.DataFrame, i: np.ndarray, j: np.ndarray, c: np.ndarray, item_count: np.ndarray,
                     n_baskets: int) -> CopurchaseGraph:
    """The graph's tables from counted pairs (i < j, count c) and each item's basket count: every edge
    measure computed once here, for the single-machine and the Spark counts alike."""
    n = max(n_baskets, 1)
    p_ij = c / n
    p_i, p_j = item_count[i] / n, item_count[j] / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(p_ij / (p_i * p_j))
        # NPMI is 1 when two items only ever occur together (p_ij = 1 makes -log p_ij zero).
        denom = -np.log(p_ij)
        npmi = np.divide(pmi, denom, out=np.ones_like(pmi), where=denom > 0)
    ids = items["item_id"]
    edges = pl.DataFrame({
        "src": ids.gather(i), "dst": ids.gather(j),
        "src_idx": i, "dst_idx": j,
        "count": c,
        "support": p_ij,
        "confidence_src_dst": c / item_count[i],
        "confidence_dst_src": c / item_count[j],
        "lift": p_ij / (p_i * p_j),
        "npmi": npmi,
        "jaccard": c / (item_count[i] + item_count[j] - c),
    })
    degree = np.bincount(np.concatenate([i, j]), minlength=items.height)
    nodes = items.with_columns(pl.Series("degree", degree.astype(np.int64)))
    return CopurchaseGraph(nodes=nodes, edges=edges, n_baskets=n_baskets)
