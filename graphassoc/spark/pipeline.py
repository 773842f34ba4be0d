"""build-graph with spark.data_jobs: ingest, cleaning, baskets, split and pair counts on Spark.

The run directory is graphassoc.pipeline.build_graph's, table for table. The driver receives the
per-basket and per-item tables (Arrow), labels the split with graphassoc.data.split (the basket
table must reach the driver anyway: baskets.parquet is written there and mining reads it), and
hands the train basket ids back to Spark for the pair counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from graphassoc.config import Config
from graphassoc.data.baskets import with_popularity
from graphassoc.data.split import split_baskets
from graphassoc.mining import mine
from graphassoc.pipeline import BuildResult, Progress
from graphassoc.runs import Timings, atomic_dir, draw_seed, fingerprint, package_versions, seed_everything
from graphassoc.spark.baskets import basket_table, collect_baskets, item_table
from graphassoc.spark.clean import clean
from graphassoc.spark.graph import copurchase_graph
from graphassoc.spark.ingest import as_uri, read_catalog, read_transactions
from graphassoc.spark.session import spark_session


def _input(path: str | Path) -> dict[str, Any]:
    """A local file is fingerprinted as on one machine; a URI or a directory of parts is named."""
    uri = as_uri(path)
    return fingerprint(Path(uri)) if Path(uri).is_file() else {"uri": uri}


def build_graph_spark(cfg: Config, transactions: str | Path, catalog: str | Path | None, out: Path,
                      overwrite: bool = False, progress: Progress = lambda _msg: None) -> BuildResult:
    """graphassoc.pipeline.build_graph with the data stages as Spark jobs; the run directory saved atomically."""
    seed = draw_seed(cfg.seed)
    cfg = cfg.model_copy(update={"seed": seed})
    seed_everything(seed)
    timings = Timings()
    with atomic_dir(out, overwrite=overwrite, kind="run") as tmp:
        progress(f"starting Spark ({cfg.spark.master})")
        with spark_session(cfg.spark) as spark:
            with timings.stage("ingest"):
                progress(f"reading transactions {as_uri(transactions)} with Spark")
                lines = read_transactions(spark, transactions, cfg.data)
                cat = read_catalog(spark, catalog, cfg.data) if catalog else None
            with timings.stage("clean"):
                progress("cleaning with Spark")
                clean_lines, quality = clean(lines, cfg.clean)
            with timings.stage("split"):
                progress(f"grouping {quality.lines_out:,} lines into baskets with Spark; splitting by time")
                spark_baskets = basket_table(clean_lines).localCheckpoint()
                baskets = split_baskets(collect_baskets(spark_baskets), cfg.split, seed)
                items = with_popularity(item_table(clean_lines, cat), baskets)
                train = baskets.filter(pl.col("split") == "train")
                train_ids = spark.createDataFrame(train.select("basket_id").to_arrow())
                spark_train = spark_baskets.join(train_ids, "basket_id")
            with timings.stage("mining"):
                progress(f"mining rules on {train.height:,} train baskets ({cfg.mining.engine})")
                mined = mine(train["items"], cfg.mining, progress=progress)
            with timings.stage("graph"):
                progress("counting co-purchase pairs with Spark")
                graph = copurchase_graph(spark, items, spark_train, train.height, cfg.graph)
            engine = {"master": spark.sparkContext.master, "version": spark.version}
        meta = {
            "seed": seed,
            "versions": package_versions(),
            "inputs": {"transactions": _input(transactions), **({"catalog": _input(catalog)} if catalog else {})},
            "timings": timings.stages,
            "spark": engine,
        }
        result = BuildResult(cfg, quality, baskets, items, mined, graph, meta)
        progress("writing the run directory")
        result.save(tmp)
    return result
