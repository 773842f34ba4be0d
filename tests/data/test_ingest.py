from pathlib import Path

import polars as pl
import pytest

from graphassoc.data.config import DataConfig
from graphassoc.data.ingest import read_catalog, read_transactions
from graphassoc.errors import DataError, UsageError


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_formats_give_same_canonical_table(tiny_transactions: Path, tmp_path: Path, fmt: str) -> None:
    df = pl.read_csv(tiny_transactions)
    path = tmp_path / f"tx.{fmt}"
    {"csv": df.write_csv, "parquet": df.write_parquet, "jsonl": df.write_ndjson}[fmt](path)
    out = read_transactions(path, DataConfig())
    assert out.columns == ["basket_id", "item_id", "timestamp", "quantity", "title"]
    assert out["basket_id"].dtype == pl.String and out["timestamp"].dtype == pl.Datetime("us")
    assert out.height == 10
    assert out["item_id"].to_list() == df["item_id"].to_list()


def test_online_retail_preset_maps_uci_columns(fixture_path: Path) -> None:
    out = read_transactions(fixture_path, DataConfig(preset="online_retail"))
    raw = pl.read_parquet(fixture_path)
    assert out.height == raw.height
    assert set(out.columns) == {"basket_id", "item_id", "timestamp", "user_id", "quantity", "price", "title"}
    # CustomerID 17850.0 becomes the id "17850", not "17850.0"
    assert not out["user_id"].drop_nulls().str.contains(r"\.").any()


def test_online_retail_ii_preset(tmp_path: Path, fixture_path: Path) -> None:
    raw = pl.read_parquet(fixture_path).rename({"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"})
    path = tmp_path / "ii.csv"
    raw.write_csv(path)
    out = read_transactions(path, DataConfig(preset="online_retail_ii"))
    assert out.height == raw.height and out["basket_id"].n_unique() == raw["Invoice"].n_unique()


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_transactions(tmp_path / "nope.csv", DataConfig())
    bad = tmp_path / "tx.xlsx"
    bad.write_text("x")
    with pytest.raises(UsageError, match="unknown format '.xlsx'"):
        read_transactions(bad, DataConfig())


def test_missing_required_column_names_it_and_lists_found(tiny_transactions: Path) -> None:
    with pytest.raises(DataError, match=r"required column 'basket_id' \(mapped from 'InvoiceNo'\) is missing; found: basket_id, item_id"):
        read_transactions(tiny_transactions, DataConfig(preset="online_retail"))


def test_wrong_type_column(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    pl.DataFrame({"basket_id": ["1", "2"], "item_id": ["a", "b"], "quantity": ["one", "2"]}).write_csv(path)
    with pytest.raises(DataError, match="'quantity'.*should hold numbers.*'one'"):
        read_transactions(path, DataConfig())
    path2 = tmp_path / "tx2.csv"
    pl.DataFrame({"basket_id": ["1"], "item_id": ["a"], "timestamp": ["yesterday"]}).write_csv(path2)
    with pytest.raises(DataError, match="'timestamp'.*should hold dates"):
        read_transactions(path2, DataConfig())


def test_catalog_mapping_and_dedup(tmp_path: Path) -> None:
    path = tmp_path / "cat.csv"
    pl.DataFrame({"sku": ["a", "a", "z"], "name": ["Apple", "Apple 2", "New thing"]}).write_csv(path)
    with pytest.raises(DataError, match="'item_id'"):
        read_catalog(path, DataConfig())
    cat = read_catalog(path, DataConfig(catalog_columns={"item_id": "sku", "title": "name"}))
    assert cat["item_id"].to_list() == ["a", "z"] and cat["title"].to_list() == ["Apple", "New thing"]
