"""GraphML/GEXF default to the top export.graph_top_k links per product (either end), stated in
export.json; graph_top_k=None writes the full graph."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import networkx as nx
import polars as pl

from graphassoc.export import ExportConfig, export


def _reference_top_k(edges: pl.DataFrame, k: int) -> set[tuple[str, str]]:
    """Plain Python: a co-purchase link stays when it is among the k best (npmi, then other id) of src or dst."""
    by_item: dict[str, list[tuple[float, str, tuple[str, str]]]] = defaultdict(list)
    for src, dst, score in edges.select("src", "dst", "npmi").iter_rows():
        by_item[src].append((-score, dst, (src, dst)))
        by_item[dst].append((-score, src, (src, dst)))
    return {link for links in by_item.values() for *_, link in sorted(links)[:k]}


def test_graphml_default_is_top_k_per_product_and_full_on_request(fixture_run: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(fixture_run, tmp_path / "run", ignore=shutil.ignore_patterns("exports")))
    k = 3
    cfg = ExportConfig(graph_top_k=k, include_rules=False)
    export(run, "graphml", cfg=cfg)
    manifest = json.loads((run / "exports" / "graphml" / "export.json").read_text())
    assert manifest["config"]["graph_top_k"] == k
    graph = nx.read_graphml(run / "exports" / "graphml" / "graph.graphml", force_multigraph=True)
    got = {(a, b) for a, b, data in graph.edges(data=True) if data["relation"] == "co_purchase"}
    edges = pl.read_parquet(run / "graph" / "edges.parquet")
    assert got == _reference_top_k(edges, k)
    assert graph.number_of_nodes() == pl.read_parquet(run / "items.parquet").height  # every product stays

    export(run, "gexf", cfg=cfg.model_copy(update={"graph_top_k": None}))
    full = nx.read_gexf(run / "exports" / "gexf" / "graph.gexf")
    assert full.number_of_edges() == edges.height > len(got)
    assert ExportConfig().graph_top_k == 20  # the default a person can open in Gephi
