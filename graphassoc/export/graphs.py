"""GraphML and GEXF, for Gephi, yEd, Cytoscape; networkx reads both back (tests check the round trip).

Both hold one directed multigraph: every product is a node (label = title), every link an edge
(relation = co_purchase, rule or similar; a pair may carry several). Co-purchase links are
undirected in meaning and stored once, src -> dst. Every attribute has one declared type (string,
long, double); a missing value is left out, never written as None.

Why not nx.write_graphml / nx.write_gexf: they build one XML element per value in Python, about
20 us each: over 5 minutes and 10 GB for the full shared data's ~2M links (bench/bench_export.py
measures both). Here the XML escaping of every distinct string is done once with the standard
library's xml.sax.saxutils, and polars assembles the elements column-wise, a chunk at a time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

import polars as pl

from graphassoc.export.config import ExportConfig
from graphassoc.export.registry import EXPORTERS
from graphassoc.export.tables import ExportTables

# XML 1.0 cannot hold these characters at all, escaped or not: they become U+FFFD.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Escaped as character references so that parsers keep them (raw ones are normalised to spaces
# in attribute values and CR is dropped in text); the same escaping is valid in text and attributes.
_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
# name -> type, the same names in GraphML and GEXF (long and double, the Java types Gephi reads).
NODE_ATTRIBUTES = {"sku": "string", "description": "string", "category": "string", "price": "double",
                   "popularity": "long", "degree": "long"}
EDGE_ATTRIBUTES = {"relation": "string", "provenance": "string", "score": "double", "support": "double",
                   "confidence": "double", "reverse_confidence": "double", "lift": "double", "count": "long",
                   "rank": "long"}
CHUNK_ROWS = 200_000


def xml_text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value), _ENTITIES)


def _escaped(series: pl.Series) -> pl.Series:
    """Escape each distinct string once (titles repeat little, ids never; constants a lot)."""
    uniques = series.drop_nulls().unique()
    return series.replace_strict(uniques, [xml_text(v) for v in uniques.to_list()], default=None, return_dtype=pl.String)


def _number(col: str) -> pl.Expr:
    # polars writes inf as "inf"; "INF" is the xsd/GraphML spelling and Python's float() reads both.
    return pl.col(col).cast(pl.String).replace({"inf": "INF", "-inf": "-INF"})


def _value(col: str, kind: str) -> pl.Expr:
    return pl.col(f"_{col}") if kind == "string" else _number(col)


def _prepare(df: pl.DataFrame, columns: dict[str, str], ids: list[str]) -> pl.DataFrame:
    strings = [c for c, kind in columns.items() if kind == "string"]
    return df.with_columns(*[_escaped(df[c]).alias(f"_{c}") for c in [*strings, *ids]])


def _write_chunks(fh: TextIO, df: pl.DataFrame, expr: pl.Expr) -> None:
    for start in range(0, df.height, CHUNK_ROWS):
        fh.write(df.slice(start, CHUNK_ROWS).select(expr.str.join(""))[0, 0] or "")


def _items(tables: ExportTables) -> pl.DataFrame:
    items = tables.items.with_columns(label=pl.coalesce("title", "item_id"), sku="item_id")
    return _prepare(items, {**NODE_ATTRIBUTES, "label": "string"}, ["item_id"])


def _relations(tables: ExportTables) -> pl.DataFrame:
    rel = tables.relations.with_row_index("_n")
    return _prepare(rel, EDGE_ATTRIBUTES, ["src", "dst"])


def _graphml_data(key: str, col: str, kind: str) -> pl.Expr:
    return pl.concat_str([pl.lit(f'<data key="{key}">'), _value(col, kind), pl.lit("</data>")])


def _graphml(tables: ExportTables, path: Path) -> int:
    node_attrs = {"label": "string", **NODE_ATTRIBUTES}
    edge_attrs = {"weight": "double", **EDGE_ATTRIBUTES}
    keys = [f'  <key id="n_{n}" for="node" attr.name="{n}" attr.type="{t}"/>\n' for n, t in node_attrs.items()]
    keys += [f'  <key id="e_{n}" for="edge" attr.name="{n}" attr.type="{t}"/>\n' for n, t in edge_attrs.items()]
    node = pl.concat_str([pl.lit('    <node id="'), pl.col("_item_id"), pl.lit('">'),
                          *[_graphml_data(f"n_{n}", n, t) for n, t in node_attrs.items()], pl.lit("</node>\n")],
                         ignore_nulls=True)
    edge = pl.concat_str([pl.lit('    <edge id="e'), pl.col("_n").cast(pl.String), pl.lit('" source="'), pl.col("_src"),
                          pl.lit('" target="'), pl.col("_dst"), pl.lit('">'),
                          *[_graphml_data(f"e_{n}", n, t) for n, t in edge_attrs.items()], pl.lit("</edge>\n")],
                         ignore_nulls=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("<?xml version='1.0' encoding='utf-8'?>\n"
                 '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
                 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
                 'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
        fh.write("".join(keys) + '  <graph id="products" edgedefault="directed">\n')
        _write_chunks(fh, _items(tables), node)
        _write_chunks(fh, _relations(tables), edge)
        fh.write("  </graph>\n</graphml>\n")
    return tables.items.height + tables.relations.height


def _gexf_attvalues(attrs: dict[str, str], prefix: str) -> list[pl.Expr]:
    values = [pl.concat_str([pl.lit(f'<attvalue for="{prefix}{i}" value="'), _value(n, t), pl.lit('"/>')])
              for i, (n, t) in enumerate(attrs.items())]
    return [pl.lit("<attvalues>"), *values, pl.lit("</attvalues>")]


def _gexf_declare(cls: str, prefix: str, attrs: dict[str, str]) -> str:
    lines = [f'      <attribute id="{prefix}{i}" title="{n}" type="{t}"/>\n' for i, (n, t) in enumerate(attrs.items())]
    return f'    <attributes class="{cls}" mode="static">\n' + "".join(lines) + "    </attributes>\n"


def _gexf(tables: ExportTables, path: Path) -> int:
    node = pl.concat_str([pl.lit('      <node id="'), pl.col("_item_id"), pl.lit('" label="'), pl.col("_label"), pl.lit('">'),
                          *_gexf_attvalues(NODE_ATTRIBUTES, "n"), pl.lit("</node>\n")], ignore_nulls=True)
    edge = pl.concat_str([pl.lit('      <edge id="'), pl.col("_n").cast(pl.String), pl.lit('" source="'), pl.col("_src"),
                          pl.lit('" target="'), pl.col("_dst"), pl.lit('" weight="'), _number("weight"), pl.lit('">'),
                          *_gexf_attvalues(EDGE_ATTRIBUTES, "e"), pl.lit("</edge>\n")], ignore_nulls=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("<?xml version='1.0' encoding='utf-8'?>\n"
                 '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
                 "  <meta><creator>graphassoc</creator></meta>\n"
                 '  <graph defaultedgetype="directed" mode="static" name="products">\n')
        fh.write(_gexf_declare("node", "n", NODE_ATTRIBUTES) + _gexf_declare("edge", "e", EDGE_ATTRIBUTES))
        fh.write("    <nodes>\n")
        _write_chunks(fh, _items(tables), node)
        fh.write("    </nodes>\n    <edges>\n")
        _write_chunks(fh, _relations(tables), edge)
        fh.write("    </edges>\n  </graph>\n</gexf>\n")
    return tables.items.height + tables.relations.height


def for_people(tables: ExportTables, k: int | None) -> ExportTables:
    """The tables with, per relation, only the links in the top k (score, then weight) of either end."""
    if k is None:
        return tables
    from graphassoc.export.tables import _top_k_either_end

    rel = tables.relations.with_columns(_order=pl.coalesce("score", "weight", pl.lit(0.0)))
    kept = []
    for _key, part in rel.group_by(["relation"], maintain_order=True):
        part = part.rename({"score": "_score", "_order": "score"}).with_row_index("_edge")
        kept.append(_top_k_either_end(part, k).drop("score").rename({"_score": "score"}))
    relations = pl.concat(kept).select(tables.relations.columns) if kept else tables.relations
    return ExportTables(items=tables.items, relations=relations, rules=tables.rules)


@EXPORTERS.register("graphml", "GraphML: products as labelled nodes, links as weighted edges (Gephi, yEd); top export.graph_top_k links per product")
def export_graphml(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    return {"graph.graphml": _graphml(for_people(tables, cfg.graph_top_k), out_dir / "graph.graphml")}


@EXPORTERS.register("gexf", "GEXF 1.2 (1.2draft namespace, as Gephi and networkx write it), Gephi's own format: the same graph as graphml")
def export_gexf(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    return {"graph.gexf": _gexf(for_people(tables, cfg.graph_top_k), out_dir / "graph.gexf")}

