"""Parquet edge lists: one row per link, plus the products and the full rules table."""

from __future__ import annotations

from pathlib import Path

from graphassoc.export.config import ExportConfig
from graphassoc.export.registry import EXPORTERS
from graphassoc.export.tables import ExportTables
from graphassoc.runs import write_parquet

EDGE_COLUMNS = ["src", "dst", "relation", "weight", "support", "confidence", "lift", "score", "provenance",
                "reverse_confidence", "count", "rank"]


@EXPORTERS.register("parquet", "Parquet edge list (src, dst, relation, weight, ..., provenance) + nodes + rules")
def export_parquet(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    write_parquet(out_dir / "edges.parquet", tables.relations.select(EDGE_COLUMNS))
    write_parquet(out_dir / "nodes.parquet", tables.items)
    written = {"edges.parquet": tables.relations.height, "nodes.parquet": tables.items.height}
    if cfg.include_rules:
        write_parquet(out_dir / "rules.parquet", tables.rules)
        written["rules.parquet"] = tables.rules.height
    return written
