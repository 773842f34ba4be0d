"""The leakage check passes on a clean run and fires on every planted leak."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_run import build_tiny_run  # noqa: E402

from graphassoc.errors import DataError  # noqa: E402
from graphassoc.evaluate.leakage import baskets_fingerprint, check_leakage  # noqa: E402


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_run(tmp_path_factory.mktemp("leak"))


@pytest.fixture
def run_copy(clean_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(clean_run, tmp_path / "run"))


def check(run: Path) -> dict:
    return check_leakage(run, pl.read_parquet(run / "baskets.parquet"), pl.read_parquet(run / "items.parquet"))


def test_a_clean_run_passes_and_says_what_it_checked(clean_run):
    report = check(clean_run)
    assert report["passed"] and report["edges_checked"] > 100 and report["rules.parquet_checked"] > 10


def test_a_duplicate_of_a_test_basket_in_train_fires(run_copy):
    baskets = pl.read_parquet(run_copy / "baskets.parquet")
    # The earliest test basket: its copy is not later than the first test basket, so only the duplicate check can fire.
    test_row = baskets.filter(pl.col("split") == "test").sort("timestamp").head(1)
    planted = pl.concat([baskets, test_row.with_columns(pl.lit("COPY").alias("basket_id"), pl.lit("train").alias("split"))])
    planted.write_parquet(run_copy / "baskets.parquet")
    with pytest.raises(DataError, match="leakage: 1 test baskets have exact duplicates .* e.g. test .* = COPY"):
        check(run_copy)


def test_a_train_basket_after_the_test_period_fires(run_copy):
    baskets = pl.read_parquet(run_copy / "baskets.parquet")
    late = baskets.filter(pl.col("split") == "train").head(1).with_columns(
        pl.lit("LATE").alias("basket_id"), (pl.col("timestamp") + (baskets["timestamp"].max() - baskets["timestamp"].min())))
    pl.concat([baskets, late]).write_parquet(run_copy / "baskets.parquet")
    with pytest.raises(DataError, match="leakage: a train/valid basket .* is later than the first test basket"):
        check(run_copy)


def test_graph_counts_that_include_test_baskets_fire(run_copy):
    # Rebuild edge counts from train + test baskets, as a leaky graph stage would.
    from graphassoc.config import load_config
    from graphassoc.graph.copurchase import build_copurchase

    shutil.rmtree(run_copy / "graph")
    cfg = load_config(None, ["graph.min_count=1"])
    everything = pl.read_parquet(run_copy / "baskets.parquet")
    build_copurchase(pl.read_parquet(run_copy / "items.parquet"), everything, cfg.graph).save(run_copy / "graph")
    with pytest.raises(DataError, match="leakage: .* graph edges have counts that differ from the train baskets"):
        check(run_copy)


def test_rules_counted_on_more_than_train_fire(run_copy):
    rules = pl.read_parquet(run_copy / "rules.parquet")
    rules.with_columns(pl.col("count") + 1).write_parquet(run_copy / "rules.parquet")
    with pytest.raises(DataError, match="rules.parquet counts differ"):
        check(run_copy)


def test_a_model_that_recorded_test_baskets_fires(run_copy):
    baskets = pl.read_parquet(run_copy / "baskets.parquet")
    test_id = baskets.filter(pl.col("split") == "test")["basket_id"][0]
    model = run_copy / "model" / "joint" / "model-best"
    model.mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({"train_basket_ids": ["B0000", test_id]}))
    with pytest.raises(DataError, match="test baskets among its training baskets"):
        check(run_copy)


def test_a_model_fingerprint_must_match_the_train_split(run_copy):
    baskets = pl.read_parquet(run_copy / "baskets.parquet")
    model = run_copy / "model" / "joint" / "model-best"
    model.mkdir(parents=True)
    train_ids = baskets.filter(pl.col("split") == "train")["basket_id"].to_list()
    (model / "config.json").write_text(json.dumps({"train_baskets_fingerprint": baskets_fingerprint(train_ids)}))
    assert check(run_copy)["model_records_checked"] == ["model/joint/model-best/config.json"]
    (model / "config.json").write_text(json.dumps({"train_baskets_fingerprint": baskets_fingerprint(baskets["basket_id"].to_list())}))
    with pytest.raises(DataError, match="fingerprint differs"):
        check(run_copy)
