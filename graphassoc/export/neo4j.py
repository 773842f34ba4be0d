"""Neo4j: CSVs in the `neo4j-admin database import` format, plus load.cypher for a running server.

Headers follow the admin-import grammar (`name:type`, `:ID(space)`, `:START_ID(space)`,
`:END_ID(space)`, `:LABEL`, `:TYPE`); load.cypher reads the very same files with LOAD CSV, in
batched transactions, after creating a uniqueness constraint per ID space. Text may hold newlines:
import.sh passes --multiline-fields=true.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from graphassoc.export.config import ExportConfig
from graphassoc.export.registry import EXPORTERS
from graphassoc.export.tables import ExportTables

# ID space -> (node label, key property)
ID_SPACES = {"Product": ("Product", "sku"), "Rule": ("Rule", "ruleId")}
CYPHER_CAST = {"long": "toInteger", "int": "toInteger", "double": "toFloat", "float": "toFloat", "boolean": "toBoolean"}


@dataclass
class CsvFile:
    name: str
    frame: pl.DataFrame  # columns named by their admin-import headers
    kind: str  # "nodes" or "relationships"
    label_or_type: str


def _product_nodes(tables: ExportTables) -> CsvFile:
    frame = tables.items.select(
        pl.col("item_id").alias("sku:ID(Product)"), pl.col("title").alias("name"), "description", "category",
        pl.col("price").alias("price:double"), pl.col("popularity").alias("popularity:long"),
        pl.col("degree").alias("degree:long"), pl.lit("Product").alias(":LABEL"))
    return CsvFile("products.csv", frame, "nodes", "Product")


def _rule_nodes(tables: ExportTables) -> CsvFile:
    frame = tables.rules.select(
        pl.col("rule_id").cast(pl.String).alias("ruleId:ID(Rule)"), pl.col("count").alias("count:long"),
        *[pl.col(m).alias(f"{m}:double") for m in ("support", "confidence", "lift", "leverage", "score")],
        pl.lit("rule").alias("provenance"), pl.lit("Rule").alias(":LABEL"))
    return CsvFile("rules.csv", frame, "nodes", "Rule")


def _rule_items(tables: ExportTables, side: str, rel_type: str) -> CsvFile:
    frame = (tables.rules.select(pl.col("rule_id").cast(pl.String).alias(":START_ID(Rule)"),
                                 pl.col(side).alias(":END_ID(Product)"))
             .explode(":END_ID(Product)").with_columns(pl.lit(rel_type).alias(":TYPE")))
    return CsvFile(f"rule_{side}.csv", frame, "relationships", rel_type)


def _links(tables: ExportTables, relation: str, rel_type: str, columns: dict[str, str]) -> CsvFile:
    frame = tables.relations.filter(pl.col("relation") == relation).select(
        pl.col("src").alias(":START_ID(Product)"), pl.col("dst").alias(":END_ID(Product)"),
        pl.lit(rel_type).alias(":TYPE"), *[pl.col(col).alias(header) for header, col in columns.items()])
    return CsvFile(f"{relation}.csv", frame, "relationships", rel_type)


def csv_files(tables: ExportTables, cfg: ExportConfig) -> list[CsvFile]:
    files = [_product_nodes(tables)]
    if cfg.include_rules:
        files += [_rule_nodes(tables), _rule_items(tables, "antecedents", "HAS_ANTECEDENT"),
                  _rule_items(tables, "consequents", "HAS_CONSEQUENT")]
    files.append(_links(tables, "co_purchase", "CO_PURCHASED_WITH", {
        "count:long": "count", "weight:double": "weight", "score:double": "score", "support:double": "support",
        "confidence:double": "confidence", "reverseConfidence:double": "reverse_confidence",
        "lift:double": "lift", "provenance": "provenance"}))
    if tables.count("similar"):
        files.append(_links(tables, "similar", "SIMILAR_TO", {
            "score:double": "score", "weight:double": "weight", "rank:long": "rank", "provenance": "provenance"}))
    return files


def _split_header(header: str) -> tuple[str, str]:
    """'price:double' -> ('price', 'double'); 'name' -> ('name', 'string'); ':ID(x)' -> ('', 'ID(x)')."""
    name, _, kind = header.partition(":")
    return name, kind or "string"


def _value(header: str) -> str:
    name, kind = _split_header(header)
    cell = f"row.`{header}`"
    if kind in CYPHER_CAST:
        return f"{CYPHER_CAST[kind]}({cell})"
    return f"CASE {cell} WHEN '' THEN null ELSE {cell} END"  # LOAD CSV reads an empty field as ''


def _properties(var: str, headers: list[str]) -> str:
    props = [h for h in headers if _split_header(h)[0] and not _split_header(h)[1].startswith("ID")]
    return ", ".join(f"{var}.{_split_header(h)[0]} = {_value(h)}" for h in props)


def _load_statement(f: CsvFile, batch: int) -> str:
    headers = f.frame.columns
    head = f"LOAD CSV WITH HEADERS FROM 'file:///{f.name}' AS row\nCALL {{\n  WITH row\n"
    tail = f"\n}} IN TRANSACTIONS OF {batch} ROWS;\n"
    if f.kind == "nodes":
        id_header = next(h for h in headers if ":ID(" in h)
        space = id_header.split("(")[1].rstrip(")")
        label, key = ID_SPACES[space]
        body = f"  MERGE (n:{label} {{{key}: row.`{id_header}`}})\n  SET {_properties('n', headers)}"
    else:
        start = next(h for h in headers if h.startswith(":START_ID"))
        end = next(h for h in headers if h.startswith(":END_ID"))
        (s_label, s_key), (e_label, e_key) = (ID_SPACES[h.split("(")[1].rstrip(")")] for h in (start, end))
        body = (f"  MATCH (a:{s_label} {{{s_key}: row.`{start}`}})\n  MATCH (b:{e_label} {{{e_key}: row.`{end}`}})\n"
                f"  CREATE (a)-[r:{f.label_or_type}]->(b)")
        props = _properties("r", headers)
        body += f"\n  SET {props}" if props else ""
    return head + body + tail


def load_cypher(files: list[CsvFile], batch: int) -> str:
    lines = ["// Load the export into a running Neo4j 5: copy the CSVs into the server's import directory,",
             "// then run `cypher-shell -f load.cypher` (each LOAD CSV runs in its own batched transactions).", ""]
    for space, (label, key) in ID_SPACES.items():
        if any(f.kind == "nodes" and f.label_or_type == label for f in files):
            lines.append(f"CREATE CONSTRAINT {label.lower()}_{key.lower()} IF NOT EXISTS "
                         f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE;")
    lines.append("")
    nodes_first = sorted(files, key=lambda f: f.kind != "nodes")
    return "\n".join(lines) + "\n".join(_load_statement(f, batch) for f in nodes_first)


def import_script(files: list[CsvFile]) -> str:
    args = " ".join(f"--{f.kind}={f.name}" for f in files)
    return ("#!/bin/sh\n# Offline bulk import into an empty database (Neo4j 5), run from this directory.\n"
            f'exec neo4j-admin database import full --multiline-fields=true {args} "${{1:-neo4j}}"\n')


@EXPORTERS.register("neo4j", "Neo4j admin-import CSVs (typed headers, ID spaces) + load.cypher (LOAD CSV)")
def export_neo4j(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    files = csv_files(tables, cfg)
    for f in files:
        f.frame.write_csv(out_dir / f.name, quote_style="necessary")
    (out_dir / "load.cypher").write_text(load_cypher(files, cfg.neo4j_batch_rows), encoding="utf-8")
    (out_dir / "import.sh").write_text(import_script(files), encoding="utf-8")
    return {f.name: f.frame.height for f in files}
