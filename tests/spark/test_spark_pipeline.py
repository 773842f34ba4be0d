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
