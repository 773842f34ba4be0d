"""`build_graph`: transactions in; quality report, split, itemsets, rules and co-purchase graph out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import polars as pl

from graphassoc.config import Config
from graphassoc.data.baskets import to_baskets, to_items, with_popularity
from graphassoc.data.checks import catalog_matches_nothing, giant_basket_dominates, random_split_without_time
from graphassoc.data.clean import QualityReport, clean
from graphassoc.data.ingest import read_catalog, read_transactions
from graphassoc.data.split import split_baskets
from graphassoc.graph.copurchase import CopurchaseGraph, build_copurchase
from graphassoc.mining import MiningResult, mine, rules_plot
from graphassoc.runs import Timings, atomic_dir, draw_seed, fingerprint, package_versions, seed_everything, write_json, write_parquet
from graphassoc.spark.session import spark_for_mining

Progress = Callable[[str], None]


@dataclass
class BuildResult:
    config: Config
    quality: QualityReport
    baskets: pl.DataFrame
    items: pl.DataFrame
    mining: MiningResult
    graph: CopurchaseGraph
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property  # graph statistics (connected components) are computed once, for meta.json and the screen
    def summary(self) -> dict[str, Any]:
        splits = self.baskets["split"].value_counts().sort("split")
        return {
            "baskets": dict(zip(splits["split"].to_list(), splits["count"].to_list())),
            "items": self.items.height,
            "itemsets": self.mining.itemsets.height,
            "rules": self.mining.rules.height,
            "graph": self.graph.stats(),
        }

    def save(self, directory: Path) -> None:
        self.save_tables(directory)
        write_json(directory / "meta.json", {**self.meta, "summary": self.summary})  # last: the run is whole

    def save_tables(self, directory: Path) -> None:
        """Everything but meta.json (written last, by save, so that a run without it is incomplete)."""
        (directory / "config.yaml").write_text(self.config.to_yaml())
        write_json(directory / "quality.json", self.quality.to_dict())
        write_parquet(directory / "baskets.parquet", self.baskets)
        write_parquet(directory / "items.parquet", self.items)
        self.mining.save(directory)
        rules_plot(self.mining.rules, directory / "rules.png")
        self.graph.save(directory / "graph")


def build_graph(cfg: Config, transactions: Path, catalog: Path | None, out: Path, overwrite: bool = False,
                progress: Progress = lambda _msg: None) -> BuildResult:
    """Run ingest -> clean -> baskets -> split -> mining -> graph and save the run directory atomically."""
    if cfg.spark.data_jobs:  # the same stages as Spark jobs (graphassoc[spark])
        from graphassoc.spark.pipeline import build_graph_spark

        return build_graph_spark(cfg, transactions, catalog, out, overwrite, progress)
    seed = draw_seed(cfg.seed)
    cfg = cfg.model_copy(update={"seed": seed})
    seed_everything(seed, with_torch=False)
    timings = Timings()
    with atomic_dir(out, overwrite=overwrite, kind="run") as tmp, spark_for_mining(cfg.mining.engine, cfg.spark):
        with timings.stage("ingest"):
            progress("reading transactions")
            lines = read_transactions(transactions, cfg.data)
            cat = read_catalog(catalog, cfg.data) if catalog else None
        with timings.stage("clean"):
            progress(f"cleaning {lines.height:,} lines")
            clean_lines, quality = clean(lines, cfg.clean)
        with timings.stage("split"):
            progress("grouping baskets and splitting by time")
            baskets = split_baskets(to_baskets(clean_lines), cfg.split, seed)
            items = with_popularity(to_items(clean_lines, cat), baskets)
            train = baskets.filter(pl.col("split") == "train")
            quality.warnings = [w for w in (catalog_matches_nothing(cat, clean_lines), giant_basket_dominates(train),
                                            random_split_without_time(baskets, seed)) if w]
            for warning in quality.warnings:
                progress(f"warning: {warning}")
        with timings.stage("mining"):
            progress(f"mining rules on {train.height:,} train baskets ({cfg.mining.engine})")
            mined = mine(train["items"], cfg.mining, progress=progress)
        with timings.stage("graph"):
            progress("building the co-purchase graph")
            graph = build_copurchase(items, train, cfg.graph)
        meta = {
            "seed": seed,
            "versions": package_versions(),
            "inputs": {"transactions": fingerprint(Path(transactions)),
                       **({"catalog": fingerprint(Path(catalog))} if catalog else {})},
            "timings": timings.stages,
        }
        result = BuildResult(cfg, quality, baskets, items, mined, graph, meta)
        progress("writing the run directory")
        with timings.stage("save"):  # meta["timings"] is timings.stages itself: this entry lands in meta.json
            result.save_tables(tmp)
            summary = result.summary  # graph statistics (connected components) are part of the cost
        write_json(tmp / "meta.json", {**result.meta, "summary": summary})
    return result
