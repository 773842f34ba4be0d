"""mlxtend, the independent reference, called directly as its documentation shows, and comparison helpers."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

MEASURES = ["antecedent support", "consequent support", "support", "confidence", "lift", "representativity",
            "leverage", "conviction", "zhangs_metric", "jaccard", "certainty", "kulczynski"]


def mlxtend_reference(baskets: list[list[str]], min_support: float, min_confidence: float,
                      max_len: int | None = None, algorithm: str = "fpgrowth") -> tuple[pd.DataFrame, pd.DataFrame]:
    """mlxtend end to end, as its documentation shows: TransactionEncoder, an itemset miner, association_rules."""
    from mlxtend import frequent_patterns as fp
    from mlxtend.preprocessing import TransactionEncoder

    enc = TransactionEncoder()
    onehot = pd.DataFrame(enc.fit(baskets).transform(baskets), columns=enc.columns_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mlxtend's certainty divides by 0 when an item is everywhere
        itemsets = getattr(fp, algorithm)(onehot, min_support=min_support, use_colnames=True, max_len=max_len)
        if itemsets.empty or itemsets["itemsets"].map(len).max() < 2:
            return itemsets, pd.DataFrame(columns=["antecedents", "consequents", *MEASURES])
        rules = fp.association_rules(itemsets, num_itemsets=len(baskets), metric="confidence",
                                     min_threshold=min_confidence)
    return itemsets, rules


def itemset_map(frame: pl.DataFrame | pd.DataFrame) -> dict[tuple[str, ...], float]:
    if isinstance(frame, pl.DataFrame):
        return {tuple(row["itemsets"]): row["support"] for row in frame.iter_rows(named=True)}
    return {tuple(sorted(s)): sup for s, sup in zip(frame["itemsets"], frame["support"])}


def rule_map(frame: pl.DataFrame | pd.DataFrame) -> dict[tuple[tuple[str, ...], tuple[str, ...]], np.ndarray]:
    if isinstance(frame, pl.DataFrame):
        keys = [(tuple(a), tuple(c)) for a, c in zip(frame["antecedents"].to_list(), frame["consequents"].to_list())]
        values = frame.select(MEASURES).to_numpy()
    else:
        keys = [(tuple(sorted(a)), tuple(sorted(c))) for a, c in zip(frame["antecedents"], frame["consequents"])]
        values = frame[MEASURES].to_numpy(dtype=np.float64) if len(frame) else np.zeros((0, len(MEASURES)))
    assert len(set(keys)) == len(keys), "duplicate rules"
    return dict(zip(keys, values))


def assert_same_rules(ours: pl.DataFrame, ref: pd.DataFrame) -> None:
    """Same rules and every measure bit-identical (NaN == NaN, inf == inf)."""
    a, b = rule_map(ours), rule_map(ref)
    assert a.keys() == b.keys(), f"{len(a.keys() - b.keys())} extra, {len(b.keys() - a.keys())} missing rules"
    if a:
        keys = list(b)
        np.testing.assert_array_equal(np.array([a[k] for k in keys]), np.array([b[k] for k in keys]))


def assert_same_itemsets(ours: pl.DataFrame, ref: pd.DataFrame) -> None:
    a, b = itemset_map(ours), itemset_map(ref)
    assert a == b
