"""Issue 11 item 4: accepted data that changes the results gets one warning line with the numbers."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from graphassoc.config import Config
from graphassoc.pipeline import build_graph


def _build(tmp_path: Path, tx: pl.DataFrame, catalog: pl.DataFrame | None = None,
           cfg: Config | None = None) -> tuple[list[str], dict]:
    tx_path = tmp_path / "tx.parquet"
    tx.write_parquet(tx_path)
    cat_path = None
    if catalog is not None:
        cat_path = tmp_path / "cat.parquet"
        catalog.write_parquet(cat_path)
    messages: list[str] = []
    build_graph(cfg or Config(seed=0), tx_path, cat_path, tmp_path / "run", progress=messages.append)
    warnings = [m for m in messages if m.startswith("warning: ")]
    return warnings, json.loads((tmp_path / "run" / "quality.json").read_text())


def _dated(baskets: list[list[str]]) -> pl.DataFrame:
    rows = [(f"b{k}", item, f"2024-01-{1 + k % 28:02d}") for k, b in enumerate(baskets) for item in b]
    return pl.DataFrame(rows, schema=["basket_id", "item_id", "timestamp"], orient="row")


def test_clean_data_gives_no_warning(tmp_path: Path) -> None:
    warnings, quality = _build(tmp_path, _dated([["a", "b"], ["b", "c"], ["a", "c"]] * 10))
    assert warnings == [] and quality["warnings"] == []


def test_catalogue_matching_no_transaction(tmp_path: Path) -> None:
    catalog = pl.DataFrame({"item_id": ["X1", "X2", "X3"], "title": ["Mug", "Plate", "Bowl"]})
    warnings, quality = _build(tmp_path, _dated([["a", "b"], ["b", "c"]] * 10), catalog)
    assert len(warnings) == 1
    assert "none of the catalogue's 3 item ids occurs in the transactions' 3" in warnings[0]
    assert "data.catalog_columns.item_id" in warnings[0]
    assert quality["warnings"] == [warnings[0].removeprefix("warning: ")]


def test_one_giant_basket_dominating_the_pairs(tmp_path: Path) -> None:
    giant = [f"g{i:02d}" for i in range(40)]  # 780 pairs against 27 of the small train baskets
    cfg = Config.model_validate({"seed": 0, "mining": {"max_len": 2}})  # 2^40 itemsets otherwise (refused)
    warnings, _ = _build(tmp_path, _dated([giant] + [["a", "b"], ["b", "c"], ["a", "c"]] * 10), cfg=cfg)
    assert len(warnings) == 1
    assert "basket 'b0' holds 40 items and makes 780 of the 807 item pairs counted (97%)" in warnings[0]
    assert "clean.max_basket_size=2 (99% of baskets hold <= 2 items)" in warnings[0]


def test_no_timestamps_means_a_random_split(tmp_path: Path) -> None:
    tx = pl.DataFrame({"basket_id": [f"b{k // 2}" for k in range(40)], "item_id": ["a", "b"] * 20})
    warnings, _ = _build(tmp_path, tx)
    assert len(warnings) == 1
    assert "no timestamps, so baskets are split at random (seed 0): 18 train / 2 valid / 0 test" in warnings[0]
