"""Read transactions and catalogs from any URI Spark reads into the canonical columns, as
graphassoc.data.ingest does with polars: same presets, same casts, same one-line errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphassoc.data.config import DataConfig
from graphassoc.data.ingest import (CATALOG_OPTIONAL, CATALOG_REQUIRED, PRESETS, TRANSACTION_OPTIONAL,
                                    TRANSACTION_REQUIRED)
from graphassoc.errors import DataError, UsageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW = "_row"  # the line's position in the input: "first" means first in file order, as in polars
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "json", ".ndjson": "json",
           ".json": "json"}


def as_uri(path: str | Path) -> str:
    """The URI as the user typed it. The CLI hands a pathlib.Path, which folds 'hdfs://nn/x' into
    'hdfs:/nn/x'; the second slash is put back for every scheme but file: ('file:/x' is valid)."""
    text = str(path)
    match = re.match(r"^([A-Za-z][\w+.-]*):/(?!/)", text)
    if match and match.group(1).lower() != "file":
        return f"{match.group(1)}://{text[match.end():]}"
    return text


def read_table(spark: "SparkSession", path: str | Path, what: str) -> "DataFrame":
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    uri = as_uri(path)
    suffix = Path(uri.rstrip("/")).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{what} '{uri}' has unknown format '{suffix or '(none)'}'; use one of {', '.join(FORMATS)}")
    reader = spark.read.format(FORMATS[suffix])
    if FORMATS[suffix] == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    try:
        df = reader.load(uri)
        df.schema  # noqa: B018 - resolves the path and the schema now, not in a later job
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc):
            raise UsageError(f"{what} '{uri}' does not exist; check the path or URI") from None
        raise DataError(f"{what} '{uri}' cannot be read as {FORMATS[suffix]}: {_first_line(exc)}") from None
    except Exception as exc:  # an unknown scheme, missing credentials, a broken file: the JVM's first line says which
        raise DataError(f"{what} '{uri}' cannot be read: {_first_line(exc)}") from None
    return df.withColumn(ROW, F.monotonically_increasing_id())


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _rename(df: "DataFrame", mapping: dict[str, str], required: list[str], optional: list[str],
            what: str, hint: str) -> "DataFrame":
    from pyspark.sql import functions as F

    found = [c for c in df.columns if c != ROW]
    selected = []
    for canon in required + optional:
        source = mapping.get(canon, canon)
        if source in found:
            selected.append(F.col(f"`{source}`").alias(canon))
        elif canon in required:
            via = f" (mapped from '{source}')" if source != canon else ""
            raise DataError(f"{what}: required column '{canon}'{via} is missing; found: {', '.join(found)}. {hint}")
    return df.select(*selected, ROW)


def _cast(df: "DataFrame", what: str) -> tuple[list[Any], dict[str, Any]]:
    """Canonical types (ids as text, numbers as double, timestamps without zone): the select list,
    and the cast expressions of the columns where a cast can fail (checked by _check_cast)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    out: list[Any] = []
    checked: dict[str, Any] = {}
    for field in df.schema.fields:
        name, dtype, col = field.name, field.dataType, F.col(field.name)
        if name in ("basket_id", "item_id", "user_id"):
            if isinstance(dtype, (T.FloatType, T.DoubleType)):
                col = col.try_cast("long")  # float ids (UCI CustomerID 17850.0) print as integers
            col = col.cast("string")
        elif name in ("title", "description", "category"):
            if not isinstance(dtype, T.StringType):
                raise DataError(f"{what}: column '{name}' should hold text but holds {dtype.simpleString()}")
        elif name in ("quantity", "price"):
            if not isinstance(dtype, (T.NumericType, T.StringType)):
                raise DataError(f"{what}: column '{name}' should be numeric but holds {dtype.simpleString()}")
            col = col.try_cast("double")
        elif name == "timestamp":
            if isinstance(dtype, T.StringType):
                col = F.try_to_timestamp(col)
            elif not isinstance(dtype, (T.DateType, T.TimestampType, T.TimestampNTZType)):
                raise DataError(f"{what}: column 'timestamp' should hold dates but holds {dtype.simpleString()}")
            col = col.cast("timestamp_ntz")
        if name in ("quantity", "price", "timestamp") and isinstance(dtype, T.StringType):
            checked[name] = col  # only text can fail to parse: numbers and dates need no checking job
        out.append(col.alias(name))
    return out, checked


def _check_cast(raw: "DataFrame", what: str, mapping: dict[str, str], checked: dict[str, Any]) -> None:
    """One job counts, per column, the values the cast turned into null; the first such column fails."""
    if not checked:
        return
    from pyspark.sql import functions as F

    failed = {name: cast.isNull() & F.col(name).isNotNull() for name, cast in checked.items()}
    row = raw.agg(*[F.count_if(f).alias(n) for n, f in failed.items()],
                  *[F.first(F.when(f, F.col(n).cast("string")), ignorenulls=True).alias(f"{n}_e") for n, f in failed.items()]
                  ).first()
    for name in checked:
        if row[name]:
            kind = "dates" if name == "timestamp" else "numbers"
            raise DataError(f"{what}: column '{mapping.get(name, name)}' ({name}) should hold {kind} but has "
                            f"{row[name]} values that are not, e.g. {row[f'{name}_e']!r}; fix the file or map "
                            "another column")


def _typed(raw: "DataFrame", what: str, mapping: dict[str, str]) -> "DataFrame":
    columns, checked = _cast(raw, what)
    _check_cast(raw, what, mapping, checked)
    return raw.select(*columns)


def read_transactions(spark: "SparkSession", path: str | Path, cfg: DataConfig) -> "DataFrame":
    """Transactions in canonical columns (+ _row, the line's input position)."""
    mapping = {**PRESETS[cfg.preset], **cfg.columns}
    hint = ("Map it with --set data.columns.NAME=COLUMN or choose a preset with --set data.preset="
            "online_retail|online_retail_ii|canonical")
    raw = _rename(read_table(spark, path, "transactions"), mapping, TRANSACTION_REQUIRED, TRANSACTION_OPTIONAL,
                  "transactions", hint)
    return _typed(raw, "transactions", mapping)


def read_catalog(spark: "SparkSession", path: str | Path, cfg: DataConfig) -> "DataFrame":
    """Catalog in canonical columns, one row per item (its first line), in file order."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    raw = _rename(read_table(spark, path, "catalog"), cfg.catalog_columns, CATALOG_REQUIRED, CATALOG_OPTIONAL,
                  "catalog", "Map it with --set data.catalog_columns.NAME=COLUMN")
    typed = _typed(raw, "catalog", cfg.catalog_columns)
    first = Window.partitionBy("item_id").orderBy(ROW)
    return (typed.filter(F.col("item_id").isNotNull()).withColumn("_n", F.row_number().over(first))
            .filter("_n = 1").drop("_n"))
