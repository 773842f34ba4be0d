"""What every exporter writes, read once from the run directory: products, rules and scored relations.

Relations are one table whatever their origin, so that every format carries the same links:
- co_purchase: graph/edges.parquet, each undirected pair once (src before dst in node order);
  confidence is P(dst | src), reverse_confidence P(src | dst); weight is the basket count.
- rule: rules with one antecedent and one consequent, as a directed pair (src -> dst).
  Longer rules only fit formats with rule nodes (RDF, Neo4j) or the rules table (Parquet).
- similar: the model's top related items (model/related.parquet), provenance "both" when a
  rule also leads from the item to the related item, else "model"; weight is the model score.
  With text_similar_k, also each item's nearest items by text embedding, provenance "text".

Customer ids live only in baskets.parquet, which no exporter reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from graphassoc.errors import DataError
from graphassoc.export.config import ExportConfig
from graphassoc.runs import require_run

ITEM_COLUMNS = ["item_id", "title", "description", "category", "price", "popularity", "degree"]
RULE_MEASURES = ["support", "confidence", "lift", "leverage"]
RELATION_SCHEMA: dict[str, pl.DataType] = {
    "src": pl.String(), "dst": pl.String(), "relation": pl.String(), "provenance": pl.String(),
    "weight": pl.Float64(), "score": pl.Float64(), "support": pl.Float64(), "confidence": pl.Float64(),
    "reverse_confidence": pl.Float64(), "lift": pl.Float64(), "count": pl.Int64(), "rank": pl.Int64(),
}
MODEL_RELATED = Path("model") / "related.parquet"


@dataclass
class ExportTables:
    items: pl.DataFrame  # ITEM_COLUMNS, node order of the run
    relations: pl.DataFrame  # RELATION_SCHEMA
    rules: pl.DataFrame  # rule_id, antecedents, consequents, count, RULE_MEASURES, score

    def count(self, relation: str) -> int:
        return int((self.relations["relation"] == relation).sum())


def load_tables(run_dir: Path, cfg: ExportConfig) -> ExportTables:
    run_dir = require_run(run_dir, "items.parquet", "graph/edges.parquet")
    items = _items(run_dir)
    rules = _rules(run_dir, cfg) if cfg.include_rules and (run_dir / "rules.parquet").is_file() else _no_rules()
    edges = _co_purchase(pl.read_parquet(run_dir / "graph" / "edges.parquet"), cfg)
    parts = [edges, _single_item_rules(rules)]
    if (run_dir / MODEL_RELATED).is_file():
        parts.append(_model_related(pl.read_parquet(run_dir / MODEL_RELATED), rules, cfg))
    if cfg.text_similar_k:
        parts.append(_text_similar(run_dir, items["item_id"], cfg.text_similar_k))
    relations = pl.concat([p.select(list(RELATION_SCHEMA)).cast(RELATION_SCHEMA) for p in parts])  # type: ignore[arg-type]
    linked = pl.concat([relations["src"], relations["dst"], rules["antecedents"].explode(), rules["consequents"].explode()])
    unknown = linked.filter(~linked.is_in(items["item_id"].implode())).unique().sort()
    if unknown.len():
        raise DataError(f"run '{run_dir}' links {unknown.len()} item ids missing from items.parquet "
                        f"(e.g. {unknown[0]!r}); rebuild it with `graphassoc build-graph --overwrite`")
    return ExportTables(items=items, relations=relations, rules=rules)


def _items(run_dir: Path) -> pl.DataFrame:
    nodes = run_dir / "graph" / "nodes.parquet"
    items = pl.read_parquet(nodes if nodes.is_file() else run_dir / "items.parquet")
    if "degree" not in items.columns:
        items = items.with_columns(degree=pl.lit(None, pl.Int64))
    for col in ("description", "category", "price"):
        if col not in items.columns:
            items = items.with_columns(pl.lit(None).alias(col))
    return items.select(ITEM_COLUMNS).cast({"description": pl.String, "category": pl.String, "price": pl.Float64,
                                            "popularity": pl.Int64, "degree": pl.Int64})


def _co_purchase(edges: pl.DataFrame, cfg: ExportConfig) -> pl.DataFrame:
    if cfg.min_lift is not None:
        edges = edges.filter(pl.col("lift") >= cfg.min_lift)
    edges = edges.with_columns(score=pl.col(cfg.score).cast(pl.Float64))
    if cfg.top_k is not None:
        edges = _top_k_either_end(edges.with_row_index("_edge"), cfg.top_k)
    return edges.select(
        "src", "dst", relation=pl.lit("co_purchase"), provenance=pl.lit("co-purchase"),
        weight=pl.col("count").cast(pl.Float64), score="score", support="support",
        confidence="confidence_src_dst", reverse_confidence="confidence_dst_src", lift="lift",
        count="count", rank=pl.lit(None, pl.Int64),
    )


def _top_k_either_end(edges: pl.DataFrame, k: int) -> pl.DataFrame:
    """Edges among the k best (score, then neighbour id) of their src or of their dst."""
    ends = pl.concat([
        edges.select("_edge", "score", item="src", other="dst"),
        edges.select("_edge", "score", item="dst", other="src"),
    ])
    best = (ends.sort(["item", "score", "other"], descending=[False, True, False])
            .filter(pl.int_range(pl.len()).over("item") < k)["_edge"].unique())
    return edges.filter(pl.col("_edge").is_in(best.implode())).drop("_edge")


def _rules(run_dir: Path, cfg: ExportConfig) -> pl.DataFrame:
    rules = pl.read_parquet(run_dir / "rules.parquet")
    rules = rules.with_row_index("rule_id").with_columns(pl.col("rule_id").cast(pl.Int64))
    if cfg.min_lift is not None:
        rules = rules.filter(pl.col("lift") >= cfg.min_lift)
    return rules.select("rule_id", "antecedents", "consequents", pl.col("count").cast(pl.Int64),
                        *[pl.col(m).cast(pl.Float64) for m in RULE_MEASURES], score=pl.col("confidence").cast(pl.Float64))


def _no_rules() -> pl.DataFrame:
    return pl.DataFrame(schema={"rule_id": pl.Int64, "antecedents": pl.List(pl.String), "consequents": pl.List(pl.String),
                                "count": pl.Int64, **{m: pl.Float64 for m in RULE_MEASURES}, "score": pl.Float64})


def _single_item_rules(rules: pl.DataFrame) -> pl.DataFrame:
    pairs = rules.filter(pl.col("antecedents").list.len() == 1, pl.col("consequents").list.len() == 1)
    return pairs.select(
        src=pl.col("antecedents").list.first(), dst=pl.col("consequents").list.first(),
        relation=pl.lit("rule"), provenance=pl.lit("rule"), weight=pl.col("count").cast(pl.Float64),
        score="score", support="support", confidence="confidence", reverse_confidence=pl.lit(None, pl.Float64),
        lift="lift", count="count", rank=pl.lit(None, pl.Int64),
    )


def _rule_pairs(rules: pl.DataFrame) -> pl.DataFrame:
    """Every (antecedent item, consequent item) a rule leads along."""
    return (rules.select(src="antecedents", dst="consequents").explode("src").explode("dst")
            .unique().with_columns(backed=pl.lit(True)))


def _model_related(related: pl.DataFrame, rules: pl.DataFrame, cfg: ExportConfig) -> pl.DataFrame:
    missing = {"item_id", "related_id", "score", "rank"} - set(related.columns)
    if missing:
        raise DataError(f"{MODEL_RELATED} lacks columns {sorted(missing)} (has {related.columns}); "
                        "retrain the model with `graphassoc train`")
    if cfg.top_k is not None:
        related = related.filter(pl.col("rank") <= cfg.top_k)
    related = (related.select(src="item_id", dst="related_id", score=pl.col("score").cast(pl.Float64),
                              rank=pl.col("rank").cast(pl.Int64))
               .join(_rule_pairs(rules), on=["src", "dst"], how="left")
               .sort(["src", "rank"]))
    return related.select(
        "src", "dst", relation=pl.lit("similar"),
        provenance=pl.when(pl.col("backed")).then(pl.lit("both")).otherwise(pl.lit("model")),
        weight="score", score="score", support=pl.lit(None, pl.Float64), confidence=pl.lit(None, pl.Float64),
        reverse_confidence=pl.lit(None, pl.Float64), lift=pl.lit(None, pl.Float64), count=pl.lit(None, pl.Int64),
        rank="rank",
    )


def _text_similar(run_dir: Path, ids: pl.Series, k: int, block: int = 1024) -> pl.DataFrame:
    """Each item's k nearest items by cosine of the run's text embeddings, best first (ties: node order)."""
    from graphassoc.runs import Run
    from graphassoc.text.encoder import item_embeddings

    vectors = item_embeddings(run_dir, Run(run_dir).config.text).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    k = min(k, len(ids) - 1)
    src, dst, score, rank = [], [], [], []
    for start in range(0, len(ids), block):  # a block of rows at a time: memory stays block x n
        sims = vectors[start:start + block] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, rows + start] = -np.inf  # never similar to itself
        order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        src.append(np.repeat(rows + start, k))
        dst.append(order.ravel())
        score.append(np.take_along_axis(sims, order, axis=1).ravel())
        rank.append(np.tile(np.arange(1, k + 1), len(rows)))
    id_array = ids.to_numpy()
    return pl.DataFrame({
        "src": id_array[np.concatenate(src)], "dst": id_array[np.concatenate(dst)], "relation": "similar",
        "provenance": "text", "weight": np.concatenate(score).astype(np.float64),
        "score": np.concatenate(score).astype(np.float64), "support": None, "confidence": None,
        "reverse_confidence": None, "lift": None, "count": None, "rank": np.concatenate(rank),
    }, schema=RELATION_SCHEMA)
