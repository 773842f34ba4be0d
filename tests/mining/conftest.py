"""The cleaned fixture baskets, shared by the mining tests."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest


@pytest.fixture(scope="session")
def fixture_baskets(fixture_path: Any) -> pl.Series:
    """The bundled fixture cleaned simply (as /work/shared/data/README.md): one sorted unique list per invoice."""
    lines = pl.read_parquet(fixture_path).filter(
        ~pl.col("InvoiceNo").str.starts_with("C") & ~pl.col("InvoiceNo").str.starts_with("A")
        & (pl.col("Quantity") > 0) & (pl.col("UnitPrice") > 0) & pl.col("Description").is_not_null()
        & pl.col("StockCode").str.contains(r"^\d{5}")
    )
    return lines.group_by("InvoiceNo").agg(pl.col("StockCode").unique().sort()).sort("InvoiceNo")["StockCode"]
