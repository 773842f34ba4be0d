"""GraphML and GEXF through networkx, for Gephi, yEd, Cytoscape.

Both hold one MultiDiGraph: every product is a node (label = title), every link an edge keyed by
its relation (co_purchase, rule, similar), so that a pair can carry several relations. Values are
plain str / int / float (the types these formats declare); a missing value is left out rather
than written as None. Co-purchase edges are undirected in meaning; they are stored once, src -> dst.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import networkx as nx

from graphassoc.export.config import ExportConfig
from graphassoc.export.registry import EXPORTERS
from graphassoc.export.tables import ExportTables

# XML 1.0 cannot hold these characters at all, escaped or not.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
EDGE_ATTRIBUTES = ["relation", "provenance", "weight", "score", "support", "confidence", "reverse_confidence",
                   "lift", "count", "rank"]


def xml_safe(value: Any) -> Any:
    return _NOT_XML.sub("\ufffd", value) if isinstance(value, str) else value


def build_graph(tables: ExportTables) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(name="graphassoc products")
    for row in tables.items.iter_rows(named=True):
        attrs = {"label": row["title"] if row["title"] is not None else row["item_id"], "sku": row["item_id"],
                 "description": row["description"], "category": row["category"], "price": row["price"],
                 "popularity": row["popularity"], "degree": row["degree"]}
        graph.add_node(xml_safe(row["item_id"]), **{k: xml_safe(v) for k, v in attrs.items() if v is not None})
    for row in tables.relations.select("src", "dst", *EDGE_ATTRIBUTES).iter_rows(named=True):
        attrs = {k: xml_safe(row[k]) for k in EDGE_ATTRIBUTES if row[k] is not None}
        graph.add_edge(xml_safe(row["src"]), xml_safe(row["dst"]), key=row["relation"], **attrs)
    return graph


def _write(tables: ExportTables, path: Path, writer: Callable[[nx.MultiDiGraph, Path], None]) -> dict[str, int]:
    graph = build_graph(tables)
    writer(graph, path)
    return {path.name: graph.number_of_nodes() + graph.number_of_edges()}


@EXPORTERS.register("graphml", "GraphML (networkx): products as nodes with labels, links as weighted edges")
def export_graphml(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    return _write(tables, out_dir / "graph.graphml", lambda g, p: nx.write_graphml(g, p, encoding="utf-8"))


@EXPORTERS.register("gexf", "GEXF 1.2 (networkx), Gephi's own format: the same graph as graphml")
def export_gexf(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    return _write(tables, out_dir / "graph.gexf", lambda g, p: nx.write_gexf(g, p, encoding="utf-8"))
