"""Data that is accepted but changes the results silently: one warning line each, with the numbers.

Each check returns its warning or None; build-graph shows them through its progress line and keeps
them in quality.json (`warnings`), so a script sees them too.
"""

from __future__ import annotations

import numpy as np
import polars as pl

GIANT_SHARE = 0.25  # one basket making at least this share of the counted item pairs dominates the graph


def catalog_matches_nothing(catalog: pl.DataFrame | None, lines: pl.DataFrame) -> str | None:
    """A catalogue none of whose ids occurs in the transactions: every product would be 'new'."""
    if catalog is None or catalog.height == 0:
        return None
    sold = lines["item_id"].unique()
    if catalog["item_id"].is_in(sold.implode()).any():
        return None
    return (f"none of the catalogue's {catalog.height:,} item ids occurs in the transactions' "
            f"{sold.len():,} (catalogue e.g. {catalog['item_id'][0]!r}, transactions e.g. {sold.sort()[0]!r}): "
            "every catalogue item becomes a new product without sales; map the catalogue's id column with "
            "--set data.catalog_columns.item_id=COLUMN")


def giant_basket_dominates(train: pl.DataFrame) -> str | None:
    """One basket whose item pairs (size x (size - 1) / 2) are a large share of all pairs counted."""
    sizes = train["items"].list.len().to_numpy().astype(np.int64)
    pairs = sizes * (sizes - 1) // 2
    total = int(pairs.sum())
    if total == 0:
        return None
    top = int(np.argmax(pairs))
    if pairs[top] < GIANT_SHARE * total:
        return None
    cap = max(2, int(np.quantile(sizes, 0.99, method="lower")))
    return (f"basket {train['basket_id'][top]!r} holds {sizes[top]:,} items and makes {int(pairs[top]):,} of the "
            f"{total:,} item pairs counted ({pairs[top] / total:.0%}), so it shapes the graph and the rules; drop such "
            f"baskets with --set clean.max_basket_size={cap} (99% of baskets hold <= {cap} items)")


def random_split_without_time(baskets: pl.DataFrame, seed: int) -> str | None:
    """No timestamps: the split is random, so validation and test measure no forecast."""
    if baskets["timestamp"].null_count() < baskets.height:
        return None
    counts = dict(baskets["split"].value_counts().iter_rows())
    split = " / ".join(f"{counts.get(s, 0):,} {s}" for s in ("train", "valid", "test"))
    return (f"the transactions have no timestamps, so baskets are split at random (seed {seed}): {split}; "
            "map a date column with --set data.columns.timestamp=COLUMN for a time split")
