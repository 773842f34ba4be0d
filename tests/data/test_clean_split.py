from datetime import date
from pathlib import Path

import polars as pl
import pytest

from graphassoc.data.baskets import to_baskets, to_items, with_popularity
from graphassoc.data.clean import clean
from graphassoc.data.config import CleanConfig, DataConfig, SplitConfig
from graphassoc.data.ingest import read_transactions
from graphassoc.data.split import split_baskets
from graphassoc.errors import DataError


def _reference_clean(raw: pl.DataFrame) -> pl.DataFrame:
    """The data README's basic cleaning, written independently on the raw UCI columns."""
    return raw.filter(
        ~pl.col("InvoiceNo").str.starts_with("C") & ~pl.col("InvoiceNo").str.starts_with("A")
        & (pl.col("Quantity") > 0) & (pl.col("UnitPrice") > 0) & pl.col("Description").is_not_null()
        & pl.col("StockCode").str.contains(r"^\d{5}")
    )


def test_cleaning_matches_independent_reference_and_report_adds_up(fixture_path: Path) -> None:
    raw = pl.read_parquet(fixture_path)
    lines = read_transactions(fixture_path, DataConfig(preset="online_retail"))
    out, report = clean(lines, CleanConfig(item_pattern=r"^\d{5}"))
    ref = _reference_clean(raw)
    assert report.baskets_out == ref["InvoiceNo"].n_unique()
    assert out.select("basket_id", "item_id").unique().height == ref.select("InvoiceNo", "StockCode").unique().height
    assert out.height == ref.select("InvoiceNo", "StockCode").unique().height  # one line per (basket, item)
    assert report.lines_in - sum(s.lines_dropped for s in report.steps) == report.lines_out
    assert report.baskets_in - sum(s.baskets_dropped for s in report.steps) == report.baskets_out
    by_reason = {s.reason: s for s in report.steps}
    assert by_reason["cancellation or credit note"].lines_dropped == raw["InvoiceNo"].str.contains("^[CA]").sum()


def test_giant_baskets_and_nothing_left(tiny_transactions: Path) -> None:
    lines = read_transactions(tiny_transactions, DataConfig())
    out, report = clean(lines, CleanConfig(max_basket_size=2))
    assert "b2" not in out["basket_id"].to_list()  # 3 items > 2
    assert report.steps[-1].baskets_dropped == 1
    with pytest.raises(DataError, match="nothing left after cleaning: 'non-product item code'.*clean.item_pattern=null"):
        clean(lines, CleanConfig(item_pattern="^zzz"))


def test_nothing_left_names_the_step_that_dropped_most(tiny_transactions: Path) -> None:
    lines = read_transactions(tiny_transactions, DataConfig())
    # Every basket id matches the cancellation pattern: that step, not item_pattern, is the one to change.
    with pytest.raises(DataError) as err:
        clean(lines, CleanConfig(cancelled_basket_pattern="^b"))
    msg = str(err.value)
    assert "'cancellation or credit note'" in msg and "clean.cancelled_basket_pattern=null" in msg
    assert "item_pattern" not in msg and "\n" not in msg


def test_baskets_items_popularity(tiny_transactions: Path) -> None:
    lines, _ = clean(read_transactions(tiny_transactions, DataConfig()), CleanConfig())
    baskets = split_baskets(to_baskets(lines), SplitConfig(valid_start=date(2024, 1, 3)), seed=0)
    assert baskets["basket_id"].to_list() == ["b1", "b2", "b3", "b5"]
    assert baskets["items"].to_list()[1] == ["a", "b", "c"]
    assert baskets["split"].to_list() == ["train", "train", "valid", "valid"]
    items = with_popularity(to_items(lines, None), baskets)
    assert dict(zip(items["item_id"], items["popularity"])) == {"a": 2, "b": 2, "c": 1, "d": 0}
    assert dict(zip(items["item_id"], items["title"]))["d"] == "Date"


def test_catalog_items_without_sales_are_kept() -> None:
    lines = pl.DataFrame({"basket_id": ["1", "1"], "item_id": ["a", "b"], "title": ["A", "B"]})
    catalog = pl.DataFrame({"item_id": ["new", "a"], "title": ["Brand new", "Catalog A"]})
    items = to_items(lines, catalog)
    assert items["item_id"].to_list() == ["new", "a", "b"]
    assert items["title"].to_list() == ["Brand new", "Catalog A", "B"]


def test_time_split_never_splits_a_basket_and_is_ordered(fixture_path: Path) -> None:
    lines, _ = clean(read_transactions(fixture_path, DataConfig(preset="online_retail")), CleanConfig(item_pattern=r"^\d{5}"))
    baskets = split_baskets(to_baskets(lines), SplitConfig(valid_start=date(2011, 9, 1), test_start=date(2011, 10, 1)), 0)
    assert baskets["basket_id"].n_unique() == baskets.height
    spans = baskets.group_by("split").agg(pl.col("timestamp").min().alias("lo"), pl.col("timestamp").max().alias("hi"))
    span = {r["split"]: (r["lo"], r["hi"]) for r in spans.iter_rows(named=True)}
    assert span["train"][1] < span["valid"][0] and span["valid"][1] < span["test"][0]
    assert str(span["test"][0]) >= "2011-10-01"


def test_fraction_split_and_random_split_without_time() -> None:
    baskets = pl.DataFrame({"basket_id": [str(i) for i in range(100)], "items": [["a"]] * 100,
                            "timestamp": pl.Series([None] * 100, dtype=pl.Datetime("us"))})
    a = split_baskets(baskets, SplitConfig(valid_fraction=0.2, test_fraction=0.1), seed=1)
    b = split_baskets(baskets, SplitConfig(valid_fraction=0.2, test_fraction=0.1), seed=1)
    c = split_baskets(baskets, SplitConfig(valid_fraction=0.2, test_fraction=0.1), seed=2)
    assert a["split"].value_counts().sort("split")["count"].to_list() == [10, 70, 20]
    assert a["split"].to_list() == b["split"].to_list() != c["split"].to_list()
    with pytest.raises(DataError, match="need timestamps"):
        split_baskets(baskets, SplitConfig(valid_start=date(2020, 1, 1)), 0)


def test_date_split_refuses_baskets_without_a_timestamp() -> None:
    """A basket with no date would silently land in train (null < any cut is not true, nor >=): it fails instead."""
    from datetime import datetime

    baskets = pl.DataFrame({"basket_id": ["1", "2", "3"], "items": [["a"], ["b"], ["a", "b"]],
                            "timestamp": pl.Series([datetime(2020, 1, 1), None, datetime(2020, 3, 1)], dtype=pl.Datetime("us"))})
    with pytest.raises(DataError, match=r"1 of 3 baskets have no timestamp.*split.valid_fraction"):
        split_baskets(baskets, SplitConfig(valid_start=date(2020, 2, 1)), 0)
    dated = split_baskets(baskets.drop_nulls("timestamp"), SplitConfig(valid_start=date(2020, 2, 1)), 0)
    assert dated["split"].to_list() == ["train", "valid"]
