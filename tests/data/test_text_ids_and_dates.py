"""Issue 11 items 3 and 6: ids are text from every format; mixed date formats are parsed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from graphassoc.cli.main import app
from graphassoc.data.config import DataConfig
from graphassoc.data.dates import parse_timestamps
from graphassoc.data.ingest import read_catalog, read_transactions
from graphassoc.errors import DataError


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_ids_keep_leading_zeros_and_match_the_catalogue(tmp_path: Path) -> None:
    tx = _csv(tmp_path / "tx.csv", "basket_id,item_id\n001,00100\n001,00200\n002,00100\n")
    cat = _csv(tmp_path / "cat.csv", "item_id,title\n00100,Mug\n00200,Plate\n")
    lines = read_transactions(tx, DataConfig())
    assert lines["item_id"].to_list() == ["00100", "00200", "00100"]
    assert lines["basket_id"].to_list() == ["001", "001", "002"]
    assert read_catalog(cat, DataConfig())["item_id"].to_list() == ["00100", "00200"]


def test_late_non_numeric_id_after_many_numeric_ones(tmp_path: Path) -> None:
    rows = "".join(f"{i // 3},{10000 + i % 50}\n" for i in range(12_000))  # past polars' 10k-row inference
    tx = _csv(tmp_path / "tx.csv", "basket_id,item_id\n" + rows + "9999,85123A\n")
    lines = read_transactions(tx, DataConfig())
    assert lines.schema["item_id"] == pl.String
    assert lines["item_id"][-1] == "85123A" and lines["item_id"][0] == "10000"


def test_jsonl_and_parquet_numeric_ids_become_text(tmp_path: Path) -> None:
    df = pl.DataFrame({"basket_id": [1, 1], "item_id": [100, 200], "user_id": [17850.0, None]})
    df.write_ndjson(tmp_path / "tx.jsonl")
    df.write_parquet(tmp_path / "tx.parquet")
    for name in ("tx.jsonl", "tx.parquet"):
        lines = read_transactions(tmp_path / name, DataConfig())
        assert lines["item_id"].to_list() == ["100", "200"]
        assert lines["user_id"].to_list() == ["17850", None]


def test_csv_float_customer_id_prints_as_integer(tmp_path: Path) -> None:
    tx = _csv(tmp_path / "tx.csv", "basket_id,item_id,user_id\n1,a,17850.0\n1,b,\n")
    assert read_transactions(tx, DataConfig())["user_id"].to_list() == ["17850", None]


def test_empty_ids_are_dropped_and_counted_in_quality_json(tmp_path: Path) -> None:
    tx = _csv(tmp_path / "tx.csv", "basket_id,item_id\n1,a\n1,b\n1,\n2,a\n2,b\n2, \n,a\n3,a\n3,b\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["build-graph", "-t", str(tx), "--out", str(out)])
    assert result.exit_code == 0, result.output
    quality = json.loads((out / "quality.json").read_text())
    step = next(s for s in quality["steps"] if s["reason"] == "missing basket or item id")
    assert step["lines_dropped"] == 3  # "", " " and the line without a basket
    items = pl.read_parquet(out / "items.parquet")["item_id"].to_list()
    assert sorted(items) == ["a", "b"]


def test_mixed_date_formats_are_parsed() -> None:
    values = pl.Series(["2011-01-05 10:00:00", "12/1/2010 8:26", "2011-02-03T04:05:06Z", "2011-02-03",
                        "3.4.2011", "2011-02-03T04:05:06.250", None])
    assert parse_timestamps(values).to_list() == [
        datetime(2011, 1, 5, 10), datetime(2010, 12, 1, 8, 26), datetime(2011, 2, 3, 4, 5, 6),
        datetime(2011, 2, 3), datetime(2011, 4, 3), datetime(2011, 2, 3, 4, 5, 6, 250000), None]


def test_slashed_dates_are_read_day_first_when_the_column_says_so() -> None:
    values = pl.Series(["13/01/2011", "01/02/2011", "25/12/2010 10:00"])
    assert parse_timestamps(values).to_list() == [datetime(2011, 1, 13), datetime(2011, 2, 1), datetime(2010, 12, 25, 10)]


def test_a_date_that_really_fails_is_quoted(tmp_path: Path) -> None:
    tx = _csv(tmp_path / "tx.csv", "basket_id,item_id,timestamp\n1,a,2011-01-05 10:00:00\n1,b,12/1/2010 8:26\n"
                                   "2,a,not a date\n2,b,2011-02-03\n")
    with pytest.raises(DataError, match=r"has 1 values that are not, e\.g\. 'not a date'"):
        read_transactions(tx, DataConfig())
