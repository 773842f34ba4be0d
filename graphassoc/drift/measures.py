"""What changed between two runs (an old period and a new one): each function compares one aspect.

Every figure is computed from the runs' own artifacts (rules.parquet, baskets.parquet,
items.parquet, quality.json): drift reads runs, it never re-mines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

RuleKey = tuple[tuple[str, ...], tuple[str, ...]]


def _rule_table(rules: pl.DataFrame) -> dict[RuleKey, dict[str, float]]:
    out = {}
    for row in rules.select("antecedents", "consequents", "support", "confidence", "lift").iter_rows(named=True):
        out[(tuple(row["antecedents"]), tuple(row["consequents"]))] = row
    return out


def _show(key: RuleKey, row: dict[str, float], titles: dict[str, str]) -> dict[str, Any]:
    name = lambda ids: " + ".join(f"{i} {titles.get(i, '')}".strip() for i in ids)  # noqa: E731
    return {"rule": f"{name(key[0])} -> {name(key[1])}", "support": row["support"], "confidence": row["confidence"],
            "lift": row["lift"]}


def rule_changes(old: pl.DataFrame, new: pl.DataFrame, titles: dict[str, str], top: int) -> dict[str, Any]:
    """Rules that appeared or vanished, and the largest lift / confidence shifts of rules in both."""
    before, after = _rule_table(old), _rule_table(new)
    appeared = [k for k in after if k not in before]
    vanished = [k for k in before if k not in after]
    common = [k for k in after if k in before]
    shifts = [{**_show(k, after[k], titles), "lift_before": before[k]["lift"],
               "lift_shift": after[k]["lift"] - before[k]["lift"],
               "confidence_before": before[k]["confidence"],
               "confidence_shift": after[k]["confidence"] - before[k]["confidence"]} for k in common]
    lift_abs = np.abs([s["lift_shift"] for s in shifts]) if shifts else np.zeros(0)
    conf_abs = np.abs([s["confidence_shift"] for s in shifts]) if shifts else np.zeros(0)
    by_support = lambda keys, table: sorted(keys, key=lambda k: -table[k]["support"])[:top]  # noqa: E731
    return {
        "old": len(before), "new": len(after), "common": len(common),
        "appeared": len(appeared), "vanished": len(vanished),
        "appeared_share": len(appeared) / len(after) if after else 0.0,
        "vanished_share": len(vanished) / len(before) if before else 0.0,
        "median_abs_lift_shift": float(np.median(lift_abs)) if len(lift_abs) else 0.0,
        "median_abs_confidence_shift": float(np.median(conf_abs)) if len(conf_abs) else 0.0,
        "top_appeared": [_show(k, after[k], titles) for k in by_support(appeared, after)],
        "top_vanished": [_show(k, before[k], titles) for k in by_support(vanished, before)],
        "top_lift_shifts": sorted(shifts, key=lambda s: -abs(s["lift_shift"]))[:top],
        "top_confidence_shifts": sorted(shifts, key=lambda s: -abs(s["confidence_shift"]))[:top],
    }


def item_counts(baskets: pl.DataFrame) -> dict[str, int]:
    """Baskets holding each item."""
    counts = baskets.select(pl.col("items").list.unique()).explode("items").group_by("items").len()
    return dict(zip(counts["items"].to_list(), counts["len"].to_list()))


def new_products(old_counts: dict[str, int], new_counts: dict[str, int], n_new_baskets: int,
                 titles: dict[str, str], top: int) -> dict[str, Any]:
    """Items sold in the new period that the old period never sold, and how they sell."""
    fresh = sorted((i for i in new_counts if old_counts.get(i, 0) == 0), key=lambda i: (-new_counts[i], i))
    sold = len(new_counts)
    ranks = {item: r + 1 for r, item in enumerate(sorted(new_counts, key=lambda i: (-new_counts[i], i)))}
    return {
        "sold_items": sold, "new_items": len(fresh), "new_item_share": len(fresh) / sold if sold else 0.0,
        # Share of the new period's baskets holding at least one new product is in basket_changes.
        "top": [{"item_id": i, "title": titles.get(i, ""), "baskets": new_counts[i],
                 "basket_share": new_counts[i] / n_new_baskets if n_new_baskets else 0.0, "rank": ranks[i]}
                for i in fresh[:top]],
    }


def basket_stats(baskets: pl.DataFrame) -> dict[str, float]:
    sizes = baskets["items"].list.len().to_numpy()
    if len(sizes) == 0:
        return {"baskets": 0, "mean_size": 0.0, "median_size": 0.0, "p90_size": 0.0, "single_item_share": 0.0}
    return {"baskets": int(len(sizes)), "mean_size": float(sizes.mean()), "median_size": float(np.median(sizes)),
            "p90_size": float(np.percentile(sizes, 90)), "single_item_share": float((sizes == 1).mean())}


def basket_changes(old: pl.DataFrame, new: pl.DataFrame, fresh: set[str]) -> dict[str, Any]:
    before, after = basket_stats(old), basket_stats(new)
    with_new = new["items"].list.eval(pl.element().is_in(list(fresh))).list.any().mean() if new.height and fresh else 0.0
    shift = (after["mean_size"] - before["mean_size"]) / before["mean_size"] if before["mean_size"] else 0.0
    return {"old": before, "new": after, "mean_size_shift": shift, "baskets_with_new_items": float(with_new or 0.0)}


def quality(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "quality.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def quality_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Share of input lines dropped by each cleaning step, before and after."""
    def shares(q: dict[str, Any]) -> dict[str, float]:
        lines = q.get("lines_in") or 0
        return {s["reason"]: s["lines_dropped"] / lines for s in q.get("steps", []) if lines}

    before, after = shares(old), shares(new)
    total = lambda q: 1 - (q.get("lines_out", 0) / q["lines_in"]) if q.get("lines_in") else 0.0  # noqa: E731
    return {"dropped_share_old": total(old), "dropped_share_new": total(new),
            "dropped_share_shift": total(new) - total(old),
            "steps": [{"reason": r, "old": before.get(r, 0.0), "new": after.get(r, 0.0),
                       "shift": after.get(r, 0.0) - before.get(r, 0.0)} for r in dict.fromkeys([*before, *after])]}
