"""GNN backbones from torch_geometric, swappable by name (`graphassoc ls gnns`)."""

from __future__ import annotations

from typing import Callable

import torch
from torch_geometric.nn.models import GAT, GCN, GraphSAGE

from graphassoc.registry import Registry

GnnFactory = Callable[[int, int, int, float], torch.nn.Module]
GNNS: Registry[GnnFactory] = Registry("gnn")
# Backbones that aggregate with one sparse adjacency x features product (PyG's message_and_aggregate on a
# torch CSR adj_t): no E x hidden message tensor. GAT's attention weighs each edge, so it keeps edge_index.
SPARSE_GNNS = frozenset({"sage", "gcn"})


@GNNS.register("sage", "GraphSAGE, mean aggregation (default): inductive, new nodes need no retraining")
def sage(in_dim: int, hidden: int, layers: int, dropout: float) -> torch.nn.Module:
    return GraphSAGE(in_dim, hidden, layers, out_channels=hidden, dropout=dropout)


@GNNS.register("gat", "graph attention (GATv2 layers), 2 heads; per-edge messages (E x hidden): small graphs")
def gat(in_dim: int, hidden: int, layers: int, dropout: float) -> torch.nn.Module:
    return GAT(in_dim, hidden, layers, out_channels=hidden, dropout=dropout, v2=True, heads=2)


@GNNS.register("gcn", "graph convolution with symmetric normalisation")
def gcn(in_dim: int, hidden: int, layers: int, dropout: float) -> torch.nn.Module:
    return GCN(in_dim, hidden, layers, out_channels=hidden, dropout=dropout)
