"""Timestamps written as text in the common formats, mixed in one column if need be.

polars' own inference takes the format of the first value and turns every value written another
way into null. Here each value is tried against the common formats in turn (ISO first); a value
that no format reads stays null, and ingest quotes it. Slashed dates are read month first (the
UCI export's 12/1/2010 8:26) unless day first reads more of the column's values (13/01/2011):
one order per column, since 01/02/2011 read both ways in one file would mix two calendars.
"""

from __future__ import annotations

import polars as pl

ISO = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
       "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d"]
MONTH_FIRST = ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"]
DAY_FIRST = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]
DOTTED = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"]  # German, Russian, ...: always day first


def _parsed(text: pl.Expr, formats: list[str]) -> pl.Expr:
    return pl.coalesce([text.str.to_datetime(f, time_unit="us", strict=False) for f in formats])


def _day_first(text: pl.Series) -> bool:
    """Whether slashed dates put the day first: more values whose first field cannot be a month
    (13/01/2011) than values whose second field cannot be one (01/13/2011)."""
    fields = text.str.extract_groups(r"^(\d{1,2})/(\d{1,2})/\d{4}").struct.unnest().cast(pl.Int32)
    return int((fields[:, 0] > 12).sum()) > int((fields[:, 1] > 12).sum())


def parse_timestamps(values: pl.Series) -> pl.Series:
    """Datetime("us") from text in any of the common formats; null where none of them reads the value.

    The column is parsed once with the format that reads most of its first 1,000 values; only the
    values that format misses are tried against all the others.
    """
    text = values.str.strip_chars().str.strip_suffix("Z")  # ISO's Z (UTC): naive, as the rest
    candidates = ISO + DOTTED + MONTH_FIRST
    head = text.drop_nulls().head(1000).to_frame("t")
    hits = head.select([pl.col("t").str.to_datetime(f, time_unit="us", strict=False).count().alias(str(k))
                        for k, f in enumerate(candidates)]).row(0)
    best = candidates[max(range(len(candidates)), key=lambda k: (hits[k], -k))]
    day_first = None
    if best in MONTH_FIRST:
        day_first = _day_first(text)
        best = DAY_FIRST[MONTH_FIRST.index(best)] if day_first else best
    parsed = text.str.to_datetime(best, time_unit="us", strict=False)
    missed = parsed.is_null() & text.is_not_null()
    if missed.any():
        rows = missed.arg_true()
        rest = text.gather(rows)
        day_first = _day_first(rest) if day_first is None else day_first
        formats = ISO + (DAY_FIRST if day_first else MONTH_FIRST) + DOTTED
        parsed = parsed.scatter(rows, rest.to_frame("t").select(_parsed(pl.col("t"), formats)).to_series())
    return parsed.alias(values.name)
