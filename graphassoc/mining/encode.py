"""Baskets -> integer item codes (CSR layout), once, so every later step works on numpy arrays.

Codes follow the sorted item ids, so sorting code tuples sorts the id lists the same way; ids
are mapped back to strings once, at the very end.
"""

from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import polars as pl

from graphassoc.errors import DataError

Baskets = Sequence[Sequence[str]] | pl.Series


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Building ~10^4 lists (or pyfim's ~10^4 result tuples) triggers the cyclic GC again and
    again, each run scanning every live object; none of these objects can form a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class EncodedBaskets:
    """n baskets as CSR rows of unique item codes; `items[code]` is the item id."""

    items: np.ndarray  # object array of item id strings, sorted
    codes: np.ndarray  # int32, basket after basket, ascending inside each basket
    offsets: np.ndarray  # int64, len n + 1: basket b holds codes[offsets[b]:offsets[b + 1]]

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    def item_counts(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=len(self.items))

    def basket_of(self) -> np.ndarray:
        """Basket index of each entry of codes."""
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.offsets))

    def take(self, rows: np.ndarray) -> EncodedBaskets:
        """The baskets at `rows` (same item codes)."""
        lengths = np.diff(self.offsets)[rows]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        idx = np.arange(offsets[-1]) - np.repeat(offsets[:-1] - self.offsets[rows], lengths)
        return EncodedBaskets(items=self.items, codes=self.codes[idx], offsets=offsets)

    def lists(self, keep: np.ndarray | None = None) -> list[list[int]]:
        """Non-empty baskets as Python lists of codes (what pyfim reads), restricted to codes where keep is True."""
        codes, offsets = self.codes, self.offsets
        if keep is not None:
            mask = keep[codes]
            codes = codes[mask]
            offsets = np.concatenate([[0], np.cumsum(mask)])[offsets]
        flat = codes.tolist()
        bounds = offsets.tolist()
        with gc_paused():
            return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def encode_baskets(baskets: Baskets) -> EncodedBaskets:
    """Encode baskets (lists of item ids; duplicates inside a basket count once, as in a one-hot matrix)."""
    series = baskets if isinstance(baskets, pl.Series) else _to_series(baskets)
    if series.len() == 0:
        raise DataError("no baskets to mine; the input is empty (check the cleaning report)")
    if isinstance(series.dtype, pl.List) and series.dtype != pl.List(pl.String):
        series = series.cast(pl.List(pl.String))  # integer or categorical item ids: their text is the id
    if series.dtype != pl.List(pl.String):
        raise DataError(f"baskets must be lists of item id strings, got {series.dtype}")
    lengths = series.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = series.explode(empty_as_null=False, keep_nulls=False)
    if flat.null_count():
        raise DataError("a basket holds a null item id; drop or fill missing item ids before mining")
    if flat.len() == 0:
        raise DataError(f"all {series.len():,} baskets are empty; nothing to mine")
    items = flat.unique().sort()
    codes = flat.cast(pl.Enum(items)).to_physical().to_numpy().astype(np.int32)  # Enum codes follow `items`' order
    basket_of = np.repeat(np.arange(series.len(), dtype=np.int64), lengths)
    key = basket_of * len(items) + codes
    if not np.all(key[1:] > key[:-1]):  # unsorted or repeated items: sort and drop repeats once
        key = np.unique(key)
        basket_of, codes = np.divmod(key, len(items))
        codes = codes.astype(np.int32)
        lengths = np.bincount(basket_of, minlength=series.len())
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return EncodedBaskets(items=items.to_numpy().astype(object), codes=codes, offsets=offsets)


def _to_series(baskets: Sequence[Sequence[str]]) -> pl.Series:
    try:
        return pl.Series("items", [list(b) for b in baskets], dtype=pl.List(pl.String))
    except (TypeError, pl.exceptions.PolarsError) as err:
        first_line = str(err).split("\n")[0]
        raise DataError(f"baskets must be lists of item id strings ({type(err).__name__}: {first_line})") from err
