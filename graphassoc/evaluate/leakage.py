"""Fail loudly when a test basket took part in mining, graph building or training.

Checked against the artifacts themselves, not against what the config claims:
- baskets.parquet: one split per basket, test after train/valid in time, and no train/valid basket
  that is an exact duplicate of a test basket (same items, timestamp and user);
- graph/edges.parquet: every edge count equals the pair count recomputed from train baskets;
- rules.parquet / itemsets.parquet: their `count` equals the train count of the itemset;
- RUN/model/*: when the model records its training baskets (ids or a fingerprint), none is a test
  basket and the fingerprint matches train (or train + valid).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.errors import DataError
from graphassoc.graph.ease import gram
from graphassoc.evaluate.protocol import basket_matrix

MAX_CHECKED_SETS = 20_000  # itemsets/rules recounted; enough to catch a leak, bounded in time


def baskets_fingerprint(basket_ids: list[str]) -> str:
    """sha256 of the sorted basket ids: what a stage can record to say which baskets it saw."""
    return hashlib.sha256("\n".join(sorted(map(str, basket_ids))).encode()).hexdigest()


def _fail(what: str) -> None:
    raise DataError(f"leakage: {what}; rebuild the run with `graphassoc build-graph` (and retrain) so test baskets stay unseen")


def _check_splits(baskets: pl.DataFrame) -> dict[str, Any]:
    dup_ids = baskets.group_by("basket_id").agg(pl.col("split").n_unique().alias("n")).filter(pl.col("n") > 1)
    if dup_ids.height:
        _fail(f"{dup_ids.height} basket ids appear in more than one split (e.g. {dup_ids['basket_id'][0]})")
    test = baskets.filter(pl.col("split") == "test")
    seen = baskets.filter(pl.col("split") != "test")
    if "timestamp" in baskets.columns and test.height and seen.height:
        last_seen, first_test = seen["timestamp"].max(), test["timestamp"].min()
        if last_seen is not None and first_test is not None and last_seen > first_test:
            _fail(f"a train/valid basket ({last_seen}) is later than the first test basket ({first_test})")
    keys = [c for c in ("items", "timestamp", "user_id") if c in baskets.columns]
    # A missing timestamp/user makes the key null: compare with explicit "∅" so such baskets still match.
    key = pl.concat_str([pl.col(c).cast(pl.List(pl.Utf8)).list.join("|") if c == "items"
                         else pl.col(c).cast(pl.Utf8).fill_null("∅") for c in keys], separator="#").alias("key")
    dups = test.select(key, "basket_id").join(seen.select(key, pl.col("basket_id").alias("seen_id")), on="key")
    if dups.height:
        _fail(f"{dups.height} test baskets have exact duplicates (same items, time, user) in train/valid, "
              f"e.g. test {dups['basket_id'][0]} = {dups['seen_id'][0]}")
    return {"test_baskets": test.height, "duplicates_of_test_in_train_valid": 0}


def _check_edges(run_dir: Path, train: sp.csr_matrix, item_index: dict[str, int]) -> dict[str, Any]:
    path = run_dir / "graph" / "edges.parquet"
    if not path.is_file():
        return {"edges": "absent"}
    edges = pl.read_parquet(path, columns=["src", "dst", "count"])
    if edges.height == 0:
        return {"edges_checked": 0}
    src = np.asarray([item_index.get(s, -1) for s in edges["src"].to_list()])
    dst = np.asarray([item_index.get(d, -1) for d in edges["dst"].to_list()])
    if (src < 0).any() or (dst < 0).any():
        _fail("graph/edges.parquet names items that are not in items.parquet")
    # Pair counts of the listed edges from train baskets (sparse item x item product, then a lookup).
    pairs = gram(train)
    recount = np.asarray(pairs[src, dst]).ravel().astype(np.int64)
    bad = np.flatnonzero(recount != edges["count"].to_numpy())
    if len(bad):
        i = int(bad[0])
        _fail(f"{len(bad)} of {edges.height} graph edges have counts that differ from the train baskets "
              f"(e.g. {edges['src'][i]}-{edges['dst'][i]}: {edges['count'][i]} in the graph, {recount[i]} in train)")
    return {"edges_checked": edges.height}


def _train_counts(sets: list[list[str]], by_item: sp.csc_matrix, item_index: dict[str, int]) -> np.ndarray:
    out = np.zeros(len(sets), dtype=np.int64)
    for i, items in enumerate(sets):
        rows: np.ndarray | None = None
        for item in items:
            j = item_index.get(item)
            col = by_item.indices[by_item.indptr[j]:by_item.indptr[j + 1]] if j is not None else np.zeros(0, np.int32)
            rows = col if rows is None else np.intersect1d(rows, col, assume_unique=True)
        out[i] = 0 if rows is None else len(rows)
    return out


def _check_counted_sets(run_dir: Path, name: str, train: sp.csr_matrix, item_index: dict[str, int]) -> dict[str, Any]:
    path = run_dir / name
    if not path.is_file():
        return {name: "absent"}
    table = pl.read_parquet(path)
    if "count" not in table.columns or table.height == 0:
        return {name: "no counts"}
    if table.height > MAX_CHECKED_SETS:
        table = table.sample(MAX_CHECKED_SETS, seed=0)
    if "itemsets" in table.columns:
        sets = [sorted(s) for s in table["itemsets"].to_list()]
    else:
        sets = [sorted(set(a) | set(c)) for a, c in zip(table["antecedents"].to_list(), table["consequents"].to_list())]
    recount = _train_counts(sets, train.tocsc(), item_index)
    bad = np.flatnonzero(recount != table["count"].to_numpy())
    if len(bad):
        i = int(bad[0])
        _fail(f"{len(bad)} of {len(sets)} checked {name} counts differ from the train baskets "
              f"(e.g. {sets[i]}: {table['count'][i]} recorded, {recount[i]} in train)")
    return {f"{name}_checked": len(sets)}


def _recorded_training(run_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted((run_dir / "model").glob("**/*.json")) if (run_dir / "model").is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and ("train_basket_ids" in data or "train_baskets_fingerprint" in data):
            found.append((path, data))
    return found


def _check_model(run_dir: Path, baskets: pl.DataFrame) -> dict[str, Any]:
    test_ids = set(baskets.filter(pl.col("split") == "test")["basket_id"].cast(pl.Utf8).to_list())
    train = baskets.filter(pl.col("split") == "train")["basket_id"].cast(pl.Utf8).to_list()
    train_valid = baskets.filter(pl.col("split") != "test")["basket_id"].cast(pl.Utf8).to_list()
    allowed = {baskets_fingerprint(train), baskets_fingerprint(train_valid)}
    checked = []
    for path, data in _recorded_training(run_dir):
        leaked = test_ids & {str(b) for b in data.get("train_basket_ids", [])}
        if leaked:
            _fail(f"{path} records {len(leaked)} test baskets among its training baskets (e.g. {sorted(leaked)[0]})")
        fp = data.get("train_baskets_fingerprint")
        if fp is not None and fp not in allowed:
            _fail(f"{path} was trained on other baskets than this run's train (+ valid) split (fingerprint differs)")
        checked.append(str(path.relative_to(run_dir)))
    return {"model_records_checked": checked}


def check_leakage(run_dir: Path, baskets: pl.DataFrame, items: pl.DataFrame) -> dict[str, Any]:
    """Raise DataError naming the leak; return what was checked otherwise."""
    run_dir = Path(run_dir)
    item_index = {item: i for i, item in enumerate(items["item_id"].to_list())}
    train = basket_matrix(baskets.filter(pl.col("split") == "train"), item_index, len(item_index))
    report = _check_splits(baskets)
    report.update(_check_edges(run_dir, train, item_index))
    report.update(_check_counted_sets(run_dir, "rules.parquet", train, item_index))
    report.update(_check_counted_sets(run_dir, "itemsets.parquet", train, item_index))
    report.update(_check_model(run_dir, baskets))
    report["passed"] = True
    return report
