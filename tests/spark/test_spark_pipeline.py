"""build-graph with spark.data_jobs writes the run directory of the single-machine pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphassoc.demo import demo_config
from graphassoc.pipeline import build_graph

TABLES = ["baskets.parquet", "items.parquet", "itemsets.parquet", "rules.parquet", "graph/nodes.parquet",
          "graph/edges.parquet"]


@pytest.fixture(scope="module")
def both_runs(spark: object, fixture_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("spark_runs")
    cfg = demo_config(seed=0)
    build_graph(cfg, fixture_path, None, root / "local")
    spark_cfg = cfg.model_copy(update={"spark": cfg.spark.model_copy(update={"data_jobs": True}),
                                       "mining": cfg.mining.model_copy(update={"engine": "spark"})})
    build_graph(spark_cfg, fixture_path, None, root / "spark")
    return root / "local", root / "spark"


@pytest.mark.parametrize("table", TABLES)
def test_same_tables(both_runs: tuple[Path, Path], table: str) -> None:
    local, spark = (pl.read_parquet(run / table) for run in both_runs)
    assert local.height > 0
    assert_frame_equal(spark, local, check_exact=True)


def test_same_quality_report_and_timings(both_runs: tuple[Path, Path]) -> None:
    local, spark = both_runs
    assert json.loads((spark / "quality.json").read_text()) == json.loads((local / "quality.json").read_text())
    meta = json.loads((spark / "meta.json").read_text())
    assert set(meta["timings"]) == {"ingest", "clean", "split", "mining", "graph"}
    assert meta["spark"]["master"] == "local[2]"
    assert meta["summary"] == json.loads((local / "meta.json").read_text())["summary"]


def test_csv_with_catalog(spark: object, tiny_transactions: Path, tmp_path: Path) -> None:
    """CSV input, a catalog with a product never sold (a node without edges), seeded fraction split."""
    from graphassoc.config import load_config

    catalog = tmp_path / "catalog.csv"
    pl.DataFrame({"item_id": ["d", "a", "new", "a"], "title": ["Date", "Apple pie", "New thing", "dup"],
                  "price": [1.0, 2.5, 3.0, 9.9]}).write_csv(catalog)
    overrides = ["seed=3", "mining.min_support=0.25", "graph.min_count=1", "split.valid_fraction=0.25"]
    runs = {}
    for name, extra in (("local", []), ("spark", ["spark.data_jobs=true", "mining.engine=spark"])):
        runs[name] = tmp_path / name
        build_graph(load_config(None, overrides + extra), tiny_transactions, catalog, runs[name])
    for table in TABLES:
        assert_frame_equal(pl.read_parquet(runs["spark"] / table), pl.read_parquet(runs["local"] / table),
                           check_exact=True)
    items = pl.read_parquet(runs["spark"] / "items.parquet")
    assert items["item_id"].to_list()[:3] == ["d", "a", "new"] and items["title"][1] == "Apple pie"
