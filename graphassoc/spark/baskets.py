"""Baskets and the item table as Spark jobs; the driver receives them as Arrow and finishes them
with graphassoc.data's own functions (item order, catalogue merge, time split), so the tables
are the single-machine pipeline's, row for row."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from graphassoc.data.baskets import to_items
from graphassoc.spark.ingest import ROW

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def to_polars(df: "DataFrame") -> pl.DataFrame:
    """Collect a (small: per basket or per item) Spark table on the driver through Arrow."""
    return pl.from_arrow(df.toArrow())  # type: ignore[return-value]


def basket_table(lines: "DataFrame") -> "DataFrame":
    """basket_id, items (sorted unique), timestamp (earliest line), user_id (first non-null in input order)."""
    from pyspark.sql import functions as F

    aggs = [F.array_sort(F.collect_set("item_id")).alias("items")]
    aggs.append(F.min("timestamp").alias("timestamp") if "timestamp" in lines.columns
                else F.lit(None).cast("timestamp_ntz").alias("timestamp"))
    aggs.append(F.expr(f"min_by(user_id, {ROW}) FILTER (WHERE user_id IS NOT NULL)").alias("user_id")
                if "user_id" in lines.columns else F.lit(None).cast("string").alias("user_id"))
    return lines.groupBy("basket_id").agg(*aggs)


def collect_baskets(baskets: "DataFrame") -> pl.DataFrame:
    """The basket table on the driver in graphassoc.data.baskets.to_baskets' order."""
    out = to_polars(baskets).with_columns(pl.col("items").cast(pl.List(pl.String)),
                                          pl.col("timestamp").cast(pl.Datetime("us")))
    return out.sort(["timestamp", "basket_id"], nulls_last=True)


def item_lines(lines: "DataFrame") -> "DataFrame":
    """One representative line per sold item: its most frequent title (ties: the smallest) and its
    median price. to_items on these lines gives what it gives on all of them."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    items = lines.select("item_id").distinct()
    if "title" in lines.columns:
        ranked = Window.partitionBy("item_id").orderBy(F.desc("n"), F.asc("title"))
        titles = (lines.filter(F.col("title").isNotNull()).groupBy("item_id", "title").agg(F.count(F.lit(1)).alias("n"))
                  .withColumn("_r", F.row_number().over(ranked)).filter("_r = 1").select("item_id", "title"))
        items = items.join(titles, "item_id", "left")
    if "price" in lines.columns:
        items = items.join(lines.groupBy("item_id").agg(F.median("price").alias("price")), "item_id", "left")
    return items


def item_table(lines: "DataFrame", catalog: "DataFrame | None") -> pl.DataFrame:
    """items.parquet's table (before popularity): graphassoc.data.baskets.to_items on the driver."""
    sold = to_polars(item_lines(lines))
    cat = None
    if catalog is not None:
        cat = to_polars(catalog.orderBy(ROW).drop(ROW))
    return to_items(sold, cat)
