"""The co-purchase graph's pair counts as a Spark job; the measures as in graphassoc.graph.copurchase.

Spark counts, for every pair of items bought together in >= min_count train baskets, those
baskets (a self-join of the exploded baskets on basket id, i < j: the sum of k^2 over baskets,
as x.T @ x costs on one machine). With graph.top_k, Spark also keeps only each item's k heaviest
edges (a window over both ends, graphassoc.graph.copurchase.top_k_edges's order). Only the kept
pairs reach the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from graphassoc.graph.config import GraphConfig
from graphassoc.graph.copurchase import CopurchaseGraph, graph_from_pairs
from graphassoc.spark.baskets import to_polars

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def pair_counts(spark: "SparkSession", train: "DataFrame", items: pl.DataFrame, min_count: int,
                top_k: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, count) of the node pairs i < j bought together in >= min_count train baskets, row-major
    (with top_k, only those among the k heaviest edges of either end).

    `train` holds basket_id, items; node i is row i of `items`; items outside it are ignored.
    """
    from pyspark.sql import functions as F

    index = spark.createDataFrame(items.select("item_id").with_row_index("idx")
                                  .with_columns(pl.col("idx").cast(pl.Int32)).to_arrow())
    entries = (train.select("basket_id", F.explode("items").alias("item_id"))
               .join(F.broadcast(index), "item_id").select("basket_id", "idx").distinct())
    a, b = entries.alias("a"), entries.alias("b")
    pairs = (a.join(b, (F.col("a.basket_id") == F.col("b.basket_id")) & (F.col("a.idx") < F.col("b.idx")))
             .groupBy(F.col("a.idx").alias("i"), F.col("b.idx").alias("j")).count()
             .filter(F.col("count") >= min_count))
    if top_k is not None:
        pairs = top_k_pairs(pairs, top_k)
    kept = to_polars(pairs).sort("i", "j")  # row-major, the order of sp.triu(...).tocoo()
    return (kept["i"].to_numpy().astype(np.int32), kept["j"].to_numpy().astype(np.int32),
            kept["count"].to_numpy().astype(np.int64))


def top_k_pairs(pairs: "DataFrame", k: int) -> "DataFrame":
    """The pairs (i, j, count) among the k heaviest edges of i or of j: each edge ranked at both ends by
    count, heaviest first, then by the other end's index (top_k_edges's order, so ties break alike)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ends = pairs.select(F.col("i").alias("end"), F.col("j").alias("other"), "i", "j", "count").unionByName(
        pairs.select(F.col("j").alias("end"), F.col("i").alias("other"), "i", "j", "count"))
    by_weight = Window.partitionBy("end").orderBy(F.desc("count"), F.asc("other"))
    return (ends.withColumn("rank", F.row_number().over(by_weight)).filter(F.col("rank") <= k)
            .select("i", "j", "count").distinct())


def copurchase_graph(spark: "SparkSession", items: pl.DataFrame, train: "DataFrame", n_baskets: int,
                     cfg: GraphConfig) -> CopurchaseGraph:
    """graphassoc.graph.copurchase.build_copurchase's graph, the pairs counted by Spark.

    `items` carries popularity (graphassoc.data.baskets.with_popularity): the number of train
    baskets holding each item, the diagonal of the single-machine co-occurrence matrix.
    """
    i, j, c = pair_counts(spark, train, items, cfg.min_count, cfg.top_k)
    item_count = items["popularity"].to_numpy().astype(np.int64)
    return graph_from_pairs(items, i, j, c, item_count, n_baskets)
