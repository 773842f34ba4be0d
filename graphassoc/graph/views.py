"""The co-purchase graph as a torch_geometric Data or a networkx Graph."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

EDGE_MEASURES = ["count", "support", "confidence_src_dst", "confidence_dst_src", "lift", "npmi", "jaccard"]


def to_pyg(nodes: pl.DataFrame, edges: pl.DataFrame, x: Any = None) -> Any:
    """Undirected Data: both directions of each edge; edge_attr holds EDGE_MEASURES in that order
    (confidences swapped on the reverse direction), `edge_weight` the NPMI."""
    import torch
    from torch_geometric.data import Data

    src = edges["src_idx"].to_numpy().astype(np.int64)
    dst = edges["dst_idx"].to_numpy().astype(np.int64)
    fwd = edges.select(EDGE_MEASURES).to_numpy().astype(np.float32)
    rev = fwd.copy()
    a, b = EDGE_MEASURES.index("confidence_src_dst"), EDGE_MEASURES.index("confidence_dst_src")
    rev[:, [a, b]] = fwd[:, [b, a]]
    edge_index = torch.from_numpy(np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])]))
    edge_attr = torch.from_numpy(np.concatenate([fwd, rev]))
    data = Data(edge_index=edge_index, edge_attr=edge_attr, num_nodes=nodes.height,
                edge_weight=edge_attr[:, EDGE_MEASURES.index("npmi")].clone())
    if x is not None:
        data.x = torch.as_tensor(x)
    data.item_id = nodes["item_id"].to_list()
    return data


def to_networkx(nodes: pl.DataFrame, edges: pl.DataFrame) -> Any:
    """nx.Graph keyed by item id, node and edge attributes from the tables (nulls left out)."""
    import networkx as nx

    graph = nx.Graph()
    for row in nodes.iter_rows(named=True):
        graph.add_node(row["item_id"], **{k: v for k, v in row.items() if k != "item_id" and v is not None})
    cols = ["src", "dst", *EDGE_MEASURES]
    graph.add_edges_from((r[0], r[1], dict(zip(EDGE_MEASURES, r[2:]))) for r in edges.select(cols).iter_rows())
    return graph
