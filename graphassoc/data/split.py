"""Global time split of whole baskets into train / valid / test; seeded random split without timestamps."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from graphassoc.data.config import SplitConfig
from graphassoc.errors import DataError


def split_baskets(baskets: pl.DataFrame, cfg: SplitConfig, seed: int) -> pl.DataFrame:
    """Add a `split` column. A basket is never split: each basket gets one label.

    Dates: train < valid_start <= valid < test_start <= test. Otherwise fractions: the last
    test_fraction of baskets in time order is test, the valid_fraction before it valid. Baskets
    without timestamps are shuffled with the seed instead.
    """
    has_time = baskets["timestamp"].null_count() < baskets.height
    if cfg.valid_start or cfg.test_start:
        if not has_time:
            raise DataError("split.valid_start/test_start need timestamps, and the transactions have none; "
                            "use split.valid_fraction instead")
        undated = baskets["timestamp"].null_count()
        if undated:  # no date cannot be placed before or after a cut: as train it could leak test baskets
            raise DataError(f"{undated:,} of {baskets.height:,} baskets have no timestamp, and split.valid_start/"
                            "test_start cannot place them in time; drop the lines without a date from the input, "
                            "or split by split.valid_fraction")
        far = datetime(9999, 1, 1)
        valid_at = datetime.combine(cfg.valid_start, datetime.min.time()) if cfg.valid_start else None
        test_at = datetime.combine(cfg.test_start, datetime.min.time()) if cfg.test_start else far
        valid_at = valid_at or test_at
        ts = pl.col("timestamp")
        out = baskets.with_columns(
            pl.when(ts >= test_at).then(pl.lit("test")).when(ts >= valid_at).then(pl.lit("valid"))
            .otherwise(pl.lit("train")).alias("split"))
    else:
        n = baskets.height
        n_test = int(round(n * cfg.test_fraction))
        n_valid = int(round(n * cfg.valid_fraction))
        order = np.arange(n) if has_time else np.random.default_rng(seed).permutation(n)
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(n)  # rank of each basket in time (or shuffled) order
        rank = pl.Series(position)
        out = baskets.with_columns(pl.when(rank >= n - n_test).then(pl.lit("test"))
                                   .when(rank >= n - n_valid - n_test).then(pl.lit("valid"))
                                   .otherwise(pl.lit("train")).alias("split"))
    if (out["split"] == "train").sum() == 0:
        raise DataError("the split leaves no train baskets; move split.valid_start later or lower split.valid_fraction")
    return out
