"""PyKEEN-style triples: head<TAB>relation<TAB>tail, no header (TriplesFactory.from_path reads it).

Labels are the item ids with the few characters that would break a TSV line or pandas' quoting
percent-encoded (% TAB LF CR "), so `urllib.parse.unquote(label)` gives the id back exactly.
entities.tsv maps each label to the product title, encoded the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from graphassoc.export.config import ExportConfig
from graphassoc.export.registry import EXPORTERS
from graphassoc.export.tables import ExportTables

# '%' first, so that the escapes added after it are not escaped again.
_ESCAPES = [("%", "%25"), ("\t", "%09"), ("\n", "%0A"), ("\r", "%0D"), ('"', "%22")]
RELATION_LABELS = {"co_purchase": "co_purchased_with", "rule": "implies", "similar": "similar_to"}


def tsv_label(col: str) -> pl.Expr:
    expr = pl.col(col)
    for raw, escaped in _ESCAPES:
        expr = expr.str.replace_all(raw, escaped, literal=True)
    return expr


def _write_tsv(frame: pl.DataFrame, path: Path) -> None:
    # quote_style="never" is safe: no label holds a separator, newline or quote any more.
    frame.write_csv(path, separator="\t", include_header=False, quote_style="never")


@EXPORTERS.register("pykeen", "PyKEEN TSV triples (head, relation, tail), optionally split train/valid/test")
def export_pykeen(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    triples = tables.relations.select(
        head=tsv_label("src"), relation=pl.col("relation").replace_strict(RELATION_LABELS, return_dtype=pl.String),
        tail=tsv_label("dst"))
    entities = tables.items.select(label=tsv_label("item_id"), title=tsv_label("title").fill_null(""))
    _write_tsv(entities, out_dir / "entities.tsv")
    written = {"entities.tsv": entities.height}
    if cfg.pykeen_split is None:
        _write_tsv(triples, out_dir / "triples.tsv")
        return {**written, "triples.tsv": triples.height}
    order = np.random.default_rng(cfg.split_seed).permutation(triples.height)
    bounds = np.floor(np.cumsum(cfg.pykeen_split)[:2] * triples.height).astype(int)
    for name, part in zip(("train", "valid", "test"), np.split(order, bounds)):
        _write_tsv(triples[np.sort(part)], out_dir / f"{name}.tsv")
        written[f"{name}.tsv"] = len(part)
    return written
