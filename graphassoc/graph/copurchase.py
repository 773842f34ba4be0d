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
    index = pl.DataFrame({"item_id": list(item_index.keys()), "col": list(item_index.values())},
                         schema={"item_id": pl.String, "col": pl.Int64})
    exploded = (pl.DataFrame({"items": item_lists}).with_row_index("row")
                .explode("items").rename({"items": "item_id"})
                .join(index, on="item_id", how="inner").unique(["row", "col"]))
    rows = exploded["row"].to_numpy()
    cols = exploded["col"].to_numpy()
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(item_lists), n_items))


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


def build_copurchase(items: pl.DataFrame, train_baskets: pl.DataFrame, cfg: GraphConfig) -> CopurchaseGraph:
    """Edges between items seen together in >= min_count train baskets, with association measures.

    Every item of `items` is a node, in its row order; items never sold in train are nodes without edges.
    """
    index = {item: i for i, item in enumerate(items["item_id"].to_list())}
    x = basket_matrix(train_baskets["items"], index, items.height)
    n_baskets = x.shape[0]
    counts = (x.T @ x).tocsr()  # item x item co-occurrence counts; diagonal = item counts
    item_count = counts.diagonal().astype(np.int64)
    upper = sp.triu(counts, k=1).tocoo()
    keep = upper.data >= cfg.min_count
    i, j = upper.row[keep].astype(np.int32), upper.col[keep].astype(np.int32)
    c = np.rint(upper.data[keep]).astype(np.int64)

    n = max(n_baskets, 1)
    p_ij = c / n
    p_i, p_j = item_count[i] / n, item_count[j] / n
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
