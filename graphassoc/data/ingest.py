"""Read transactions and catalogs (CSV, Parquet, JSONL) into the canonical schema of GUIDE.md section 3."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphassoc.data.config import DataConfig
from graphassoc.data.dates import parse_timestamps
from graphassoc.errors import DataError, UsageError

TRANSACTION_REQUIRED = ["basket_id", "item_id"]
TRANSACTION_OPTIONAL = ["timestamp", "user_id", "quantity", "price", "title"]
CATALOG_REQUIRED = ["item_id", "title"]
CATALOG_OPTIONAL = ["description", "category", "price"]

# canonical name -> column name in the file. `title` in transactions is the text column used for
# titles when no catalog is given.
PRESETS: dict[str, dict[str, str]] = {
    "canonical": {},
    "online_retail": {"basket_id": "InvoiceNo", "item_id": "StockCode", "timestamp": "InvoiceDate",
                      "user_id": "CustomerID", "quantity": "Quantity", "price": "UnitPrice",
                      "title": "Description"},
    "online_retail_ii": {"basket_id": "Invoice", "item_id": "StockCode", "timestamp": "InvoiceDate",
                         "user_id": "Customer ID", "quantity": "Quantity", "price": "Price",
                         "title": "Description"},
}

READERS = {
    # Every CSV column is read as text and cast by name later: an id column stays text (00100 keeps
    # its zeros, 85123A after 10,000 numeric ids is no error), numbers and dates are parsed as such.
    ".csv": lambda p: pl.scan_csv(p, infer_schema=False),
    ".parquet": pl.scan_parquet,
    ".pq": pl.scan_parquet,
    ".jsonl": pl.scan_ndjson,
    ".ndjson": pl.scan_ndjson,
}


def scan_table(path: Path, what: str) -> pl.LazyFrame:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what} file '{path}' does not exist; check the path")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise UsageError(f"{what} file '{path}' has unknown format '{suffix or '(none)'}'; "
                         f"use one of {', '.join(READERS)}")
    try:
        lf = READERS[suffix](path)
        lf.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"{what} file '{path}' cannot be read as {suffix[1:]}: {str(exc).splitlines()[0]}") from None
    return lf


def _rename(lf: pl.LazyFrame, mapping: dict[str, str], required: list[str], optional: list[str],
            what: str, hint: str) -> pl.LazyFrame:
    found = lf.collect_schema().names()
    selected = []
    for canon in required + optional:
        source = mapping.get(canon, canon)
        if source in found:
            selected.append(pl.col(source).alias(canon))
        elif canon in required:
            via = f" (mapped from '{source}')" if source != canon else ""
            raise DataError(f"{what}: required column '{canon}'{via} is missing; found: {', '.join(found)}. "
                            f"{hint}")
    return lf.select(selected)


def _casts(schema: pl.Schema, what: str) -> list[pl.Expr]:
    """Expressions casting to canonical types (timestamps as text are parsed afterwards, by parse_timestamps)."""
    casts = []
    for name, dtype in schema.items():
        if name in ("basket_id", "item_id", "user_id"):
            col = pl.col(name)
            if dtype.is_float():  # float ids (UCI CustomerID 17850.0) print as integers ...
                col = col.cast(pl.Int64, strict=False)
            col = col.cast(pl.String)
            if name == "user_id" and dtype == pl.String:  # ... also when a CSV holds them as text
                col = col.str.replace(r"^(\d+)\.0+$", "$1")
            casts.append(col.alias(name))
        elif name in ("title", "description", "category"):
            if dtype != pl.String:
                raise DataError(f"{what}: column '{name}' should hold text but holds {dtype}")
            casts.append(pl.col(name))
        elif name in ("quantity", "price"):
            if not (dtype.is_numeric() or dtype == pl.String):
                raise DataError(f"{what}: column '{name}' should be numeric but holds {dtype}")
            casts.append(pl.col(name).cast(pl.Float64, strict=False).alias(name))
        elif name == "timestamp":
            if dtype == pl.Date or isinstance(dtype, pl.Datetime):
                casts.append(pl.col(name).cast(pl.Datetime("us")).alias(name))
            elif dtype == pl.String:
                casts.append(pl.col(name))
            else:
                raise DataError(f"{what}: column 'timestamp' should hold dates but holds {dtype}")
    return casts


def _check_cast(raw: pl.DataFrame, cast: pl.DataFrame, what: str, mapping: dict[str, str]) -> None:
    for name in ("quantity", "price", "timestamp"):
        if name not in cast.columns:
            continue
        lost = cast[name].is_null() & raw[name].is_not_null()
        n_bad = int(lost.sum())
        if n_bad:
            example = raw[name].filter(lost)[0]
            kind = "dates" if name == "timestamp" else "numbers"
            source = mapping.get(name, name)
            raise DataError(f"{what}: column '{source}' ({name}) should hold {kind} but has {n_bad:,} "
                            f"values that are not, e.g. {example!r}; fix the file or map another column")


def read_transactions(path: Path, cfg: DataConfig) -> pl.DataFrame:
    """Transactions in canonical columns: basket_id, item_id [, timestamp, user_id, quantity, price, title]."""
    mapping = {**PRESETS[cfg.preset], **cfg.columns}
    hint = ("Map it with --set data.columns.NAME=COLUMN or choose a preset with --set data.preset="
            "online_retail|online_retail_ii|canonical")
    lf = _rename(scan_table(path, "transactions"), mapping, TRANSACTION_REQUIRED, TRANSACTION_OPTIONAL,
                 "transactions", hint)
    return _collect_typed(lf, "transactions", mapping)


def read_catalog(path: Path, cfg: DataConfig) -> pl.DataFrame:
    """Catalog in canonical columns: item_id, title [, description, category, price]; one row per item."""
    hint = "Map it with --set data.catalog_columns.NAME=COLUMN"
    lf = _rename(scan_table(path, "catalog"), cfg.catalog_columns, CATALOG_REQUIRED, CATALOG_OPTIONAL,
                 "catalog", hint)
    df = _collect_typed(lf, "catalog", cfg.catalog_columns)
    df = (df.filter(pl.col("item_id").is_not_null() & (pl.col("item_id").str.strip_chars() != ""))
          .unique("item_id", keep="first", maintain_order=True))
    if df.height == 0:
        raise DataError(f"catalog '{path}' has no items")
    return df


def _collect_typed(lf: pl.LazyFrame, what: str, mapping: dict[str, str]) -> pl.DataFrame:
    """One read of the mapped columns, cast in memory; a value a cast loses is quoted in the error."""
    casts = _casts(lf.collect_schema(), what)
    try:
        raw = lf.collect()
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"{what}: cannot read the columns: {str(exc).splitlines()[0]}") from None
    if raw.height == 0:
        raise DataError(f"{what} file has no rows")
    cast = raw.select(casts)
    if "timestamp" in cast.columns and cast.schema["timestamp"] == pl.String:
        cast = cast.with_columns(parse_timestamps(cast["timestamp"]))
    _check_cast(raw, cast, what, mapping)
    return cast
