"""Test data shared by the Spark tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "online_retail_sample.parquet"


def fixture_baskets() -> pl.Series:
    """The fixture's invoices as sorted item lists, cleaned simply (as tests/mining/conftest.py)."""
    lines = pl.read_parquet(FIXTURE).filter(
        ~pl.col("InvoiceNo").str.starts_with("C") & ~pl.col("InvoiceNo").str.starts_with("A")
        & (pl.col("Quantity") > 0) & (pl.col("UnitPrice") > 0) & pl.col("StockCode").str.contains(r"^\d{5}"))
    return lines.group_by("InvoiceNo").agg(pl.col("StockCode").unique().sort()).sort("InvoiceNo")["StockCode"]
