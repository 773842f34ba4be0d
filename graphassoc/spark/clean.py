"""Cleaning as Spark jobs, step for step as graphassoc.data.clean, filling the same QualityReport.

Each line is labelled with the first step that drops it (steps apply in graphassoc.data.clean's
order, each to the lines the earlier ones kept), so the whole report is one aggregation instead
of two jobs per step: a step drops the lines labelled with it, and the baskets whose lines are all
gone by then, i.e. whose highest label is that step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphassoc.data.clean import QualityReport, QualityStep
from graphassoc.data.config import CleanConfig
from graphassoc.errors import DataError
from graphassoc.spark.ingest import ROW

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

KEPT = 1000  # the label of a line no step drops
FAIL = "_fail"


def _filters(df: "DataFrame", cfg: CleanConfig) -> list[tuple[str, "Column"]]:
    """The line filters before de-duplication: (reason, keep condition)."""
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


def _first_in_group(df: "DataFrame", keys: list[str]) -> "Column":
    """True for the first still-kept line (input order) of its group: polars' is_first_distinct."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    kept_first = Window.partitionBy(*keys).orderBy(F.col(FAIL).desc(), ROW)  # kept lines (label KEPT) first
    return F.row_number().over(kept_first) == 1


def label_lines(lines: "DataFrame", cfg: CleanConfig) -> tuple["DataFrame", list[str]]:
    """lines + _fail: the index of the step that drops the line (KEPT if none); the steps' reasons."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    filters = _filters(lines, cfg)
    reasons = [reason for reason, _ in filters]
    label = F.lit(KEPT)
    for index, (_, keep) in reversed(list(enumerate(filters))):
        label = F.when(~keep, F.lit(index)).otherwise(label)
    df = lines.withColumn(FAIL, label)

    def drop_unless(step: int, keep: "Column") -> "DataFrame":
        return df.withColumn(FAIL, F.when((F.col(FAIL) == KEPT) & ~keep, F.lit(step)).otherwise(F.col(FAIL)))

    if cfg.drop_duplicate_lines:
        reasons.append("duplicate line")
        df = drop_unless(len(reasons) - 1, _first_in_group(df, [c for c in lines.columns if c != ROW]))
    # An item listed twice in one basket counts once: baskets are sets for association analysis.
    reasons.append("item repeated inside a basket")
    df = drop_unless(len(reasons) - 1, _first_in_group(df, ["basket_id", "item_id"]))
    if cfg.max_basket_size:
        reasons.append(f"giant basket (> {cfg.max_basket_size} items)")
        size = F.count_if(F.col(FAIL) == KEPT).over(Window.partitionBy("basket_id"))
        df = drop_unless(len(reasons) - 1, size <= cfg.max_basket_size)
    return df, reasons


def _report(labelled: "DataFrame", reasons: list[str], cfg: CleanConfig) -> QualityReport:
    """The whole report in one job: per basket its highest label and its lines per label, then totals."""
    from pyspark.sql import functions as F

    steps = range(len(reasons))
    per_basket = labelled.groupBy("basket_id").agg(
        F.max(FAIL).alias("top"), F.count_if(F.col(FAIL) == KEPT).alias("kept"),
        *[F.count_if(F.col(FAIL) == s).alias(f"l{s}") for s in steps], F.count(F.lit(1)).alias("lines"))
    row: Any = per_basket.agg(
        F.sum("lines").alias("lines"), F.count(F.lit(1)).alias("baskets"), F.sum("kept").alias("kept"),
        F.count_if(F.col("top") == KEPT).alias("baskets_kept"), F.count_if(F.col("kept") == 1).alias("single"),
        *[F.sum(f"l{s}").alias(f"l{s}") for s in steps], *[F.count_if(F.col("top") == s).alias(f"b{s}") for s in steps],
    ).first()
    if not row["lines"]:
        raise DataError("transactions file has no rows")
    return QualityReport(
        lines_in=int(row["lines"]), baskets_in=int(row["baskets"]),
        steps=[QualityStep(reason=r, lines_dropped=int(row[f"l{s}"]), baskets_dropped=int(row[f"b{s}"]))
               for s, r in enumerate(reasons)],
        lines_out=int(row["kept"]), baskets_out=int(row["baskets_kept"]), single_item_baskets=int(row["single"]),
        giant_baskets_over=cfg.max_basket_size)


def clean(lines: "DataFrame", cfg: CleanConfig) -> tuple["DataFrame", QualityReport]:
    """Drop unusable lines as graphassoc.data.clean does; one line per (basket, item) and the report."""
    from pyspark.sql import functions as F

    labelled, reasons = label_lines(lines, cfg)
    labelled = labelled.localCheckpoint()  # labelled once, read by the report and by the kept lines
    report = _report(labelled, reasons, cfg)
    if report.lines_out == 0:
        raise DataError("nothing left after cleaning; check data.preset / column mapping and clean.* patterns "
                        "(see quality steps with --set clean.item_pattern=null)")
    kept = labelled.filter(F.col(FAIL) == KEPT).drop(FAIL)
    report.items_out = kept.select("item_id").distinct().count()
    return kept, report
