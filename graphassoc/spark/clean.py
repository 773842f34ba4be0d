"""Cleaning as Spark jobs, step for step as graphassoc.data.clean, filling the same QualityReport."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphassoc.data.clean import QualityReport, QualityStep
from graphassoc.data.config import CleanConfig
from graphassoc.errors import DataError
from graphassoc.spark.ingest import ROW

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def _sizes(df: "DataFrame") -> tuple[int, int]:
    """Lines and distinct basket ids, a missing id counting as one (polars' n_unique counts null)."""
    from pyspark.sql import functions as F

    row = df.agg(F.count(F.lit(1)).alias("lines"), F.count_distinct("basket_id").alias("baskets"),
                 F.max(F.col("basket_id").isNull().cast("int")).alias("null_id")).first()
    return int(row["lines"]), int(row["baskets"]) + int(row["null_id"] or 0)


def _step(kept: "DataFrame", reason: str, report: QualityReport,
          before: tuple[int, int]) -> tuple["DataFrame", tuple[int, int]]:
    kept = kept.localCheckpoint()  # each step is counted once and read by the next, not recomputed
    after = _sizes(kept)
    report.steps.append(QualityStep(reason=reason, lines_dropped=before[0] - after[0],
                                    baskets_dropped=before[1] - after[1]))
    return kept, after


def _first_per(df: "DataFrame", *keys: str) -> "DataFrame":
    """The first line (in input order) of each group: polars' is_first_distinct."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    return (df.withColumn("_n", F.row_number().over(Window.partitionBy(*keys).orderBy(ROW)))
            .filter("_n = 1").drop("_n"))


def _filters(df: "DataFrame", cfg: CleanConfig) -> list[tuple[str, "Column"]]:
    from pyspark.sql import functions as F

    steps = [("missing basket or item id", F.col("basket_id").isNotNull() & F.col("item_id").isNotNull())]
    if cfg.cancelled_basket_pattern:
        steps.append(("cancellation or credit note", ~F.col("basket_id").rlike(cfg.cancelled_basket_pattern)))
    if "quantity" in df.columns:
        steps.append(("non-positive quantity", F.coalesce("quantity", F.lit(1.0)) > 0))
    if "price" in df.columns:
        steps.append(("non-positive price", F.coalesce("price", F.lit(1.0)) > 0))
    if cfg.item_pattern:
        steps.append(("non-product item code", F.col("item_id").rlike(cfg.item_pattern)))
    if "title" in df.columns:
        # (?U): \s is Unicode white space, like polars' strip_chars().
        steps.append(("missing text", F.regexp_replace(F.coalesce("title", F.lit("")), r"(?U)^\s+|\s+$", "") != ""))
    return steps


def clean(lines: "DataFrame", cfg: CleanConfig) -> tuple["DataFrame", QualityReport]:
    """Drop unusable lines in graphassoc.data.clean's order; one line per (basket, item) and the report."""
    from pyspark.sql import functions as F

    sizes = _sizes(lines)
    if sizes[0] == 0:
        raise DataError("transactions file has no rows")
    report = QualityReport(lines_in=sizes[0], baskets_in=sizes[1])
    df = lines
    for reason, keep in _filters(lines, cfg):
        df, sizes = _step(df.filter(keep), reason, report, sizes)
    if cfg.drop_duplicate_lines:
        df, sizes = _step(_first_per(df, *[c for c in df.columns if c != ROW]), "duplicate line", report, sizes)
    # An item listed twice in one basket counts once: baskets are sets for association analysis.
    df, sizes = _step(_first_per(df, "basket_id", "item_id"), "item repeated inside a basket", report, sizes)
    if cfg.max_basket_size:
        report.giant_baskets_over = cfg.max_basket_size
        big = df.groupBy("basket_id").count().filter(F.col("count") > cfg.max_basket_size).select("basket_id")
        df, sizes = _step(df.join(big, "basket_id", "left_anti"), f"giant basket (> {cfg.max_basket_size} items)",
                          report, sizes)
    if sizes[0] == 0:
        raise DataError("nothing left after cleaning; check data.preset / column mapping and clean.* patterns "
                        "(see quality steps with --set clean.item_pattern=null)")
    _finish(df, report)
    return df, report


def _finish(df: "DataFrame", report: QualityReport) -> None:
    from pyspark.sql import functions as F

    per_basket = df.groupBy("basket_id").count()
    row: Any = per_basket.agg(F.sum("count").alias("lines"), F.count(F.lit(1)).alias("baskets"),
                              F.count_if(F.col("count") == 1).alias("single")).first()
    report.lines_out, report.baskets_out = int(row["lines"]), int(row["baskets"])
    report.single_item_baskets = int(row["single"])
    report.items_out = df.select("item_id").distinct().count()
