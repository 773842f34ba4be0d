"""`drift(old_run, new_run)`: what changed between two periods, and whether it crosses the alert thresholds.

The new period is the new run's baskets after the old run's last timestamp (without timestamps:
the baskets whose id the old run does not hold), so a new run that re-reads the old period too
(a cumulative export) is compared on what is actually new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

from graphassoc.drift import measures
from graphassoc.drift.config import DriftConfig
from graphassoc.errors import DataError
from graphassoc.runs import Run, atomic_dir, write_json

NEEDED = ("config.yaml", "items.parquet", "baskets.parquet", "rules.parquet")


@dataclass
class DriftResult:
    old_run: Path
    new_run: Path
    figures: dict[str, Any]
    alerts: list[str] = field(default_factory=list)
    out: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"old_run": str(self.old_run), "new_run": str(self.new_run), "alerts": self.alerts, **self.figures}

    def save(self, out: Path, overwrite: bool = False) -> Path:
        from graphassoc.drift.report import render_html, render_markdown

        with atomic_dir(Path(out), overwrite=overwrite) as tmp:
            write_json(tmp / "drift.json", self.to_dict())
            (tmp / "report.md").write_text(render_markdown(self.to_dict()), encoding="utf-8")
            (tmp / "report.html").write_text(render_html(self.to_dict()), encoding="utf-8")
        self.out = Path(out)
        return self.out


def new_period(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    if "timestamp" in old.columns and "timestamp" in new.columns and old["timestamp"].drop_nulls().len():
        last = old["timestamp"].max()
        after = new.filter(pl.col("timestamp") > last)
        if after.height:
            return after
    return new.filter(~pl.col("basket_id").is_in(old["basket_id"].implode()))


def old_model_hr(rec: Any, baskets: pl.DataFrame, seed: int, max_queries: int, k: int = 10) -> dict[str, Any]:
    """Leave-one-out HR@k of a loaded Recommender on baskets it may never have seen.

    A hidden item the old catalogue lacks, or a query with no item it knows, is a miss: the
    old model cannot recommend what it does not know, and that is part of the drift.
    """
    from graphassoc.evaluate.protocol import top_k

    rng = np.random.default_rng(seed)
    rows = [sorted(set(items)) for items in baskets.sort("basket_id")["items"].to_list() if len(set(items)) >= 2]
    if len(rows) > max_queries:
        rows = [rows[i] for i in sorted(rng.choice(len(rows), size=max_queries, replace=False))]
    queries, targets, unknown_target, empty_query = [], [], 0, 0
    for items in rows:
        hidden = items[int(rng.integers(len(items)))]
        rest = [rec.index[i] for i in items if i != hidden and i in rec.index]
        if hidden not in rec.index:
            unknown_target += 1
        elif not rest:
            empty_query += 1
        else:
            queries.append(np.unique(np.asarray(rest, dtype=np.int64)))
            targets.append(rec.index[hidden])
    hits = 0
    for start in range(0, len(queries), 512):
        top = top_k(rec.scores(queries[start:start + 512]), k, rec.ctx.tiebreak)
        hits += int((top == np.asarray(targets[start:start + 512])[:, None]).any(axis=1).sum())
    n = len(rows)
    return {"queries": n, f"hr@{k}": hits / n if n else None,
            f"hr@{k}_known_targets": hits / len(queries) if queries else None,
            "unknown_targets": unknown_target, "queries_without_known_items": empty_query, "method": rec.method}


def drift(old_run: str | Path, new_run: str | Path, cfg: DriftConfig | None = None,
          progress: Callable[[str], None] = lambda _msg: None) -> DriftResult:
    cfg = cfg or DriftConfig()
    old, new = Run(old_run, *NEEDED), Run(new_run, *NEEDED)
    old_baskets, new_baskets = old.baskets(), new.baskets()
    period = new_period(old_baskets, new_baskets)
    if period.height == 0:
        raise DataError(f"'{new.path}' holds no basket after the last one of '{old.path}'; "
                        "give the run of a later period as NEW_RUN")
    titles = dict(zip(*new.items().select("item_id", "title").to_dict(as_series=False).values()))
    titles.update(dict(zip(*old.items().select("item_id", "title").to_dict(as_series=False).values())))
    progress("comparing rules, products, baskets and data quality")
    old_counts, new_counts = measures.item_counts(old_baskets), measures.item_counts(period)
    products = measures.new_products(old_counts, new_counts, period.height, titles, cfg.top)
    fresh = {i for i in new_counts if old_counts.get(i, 0) == 0}
    figures: dict[str, Any] = {
        "new_period": {"baskets": period.height, "first": str(period["timestamp"].min()) if "timestamp" in period.columns else None,
                       "last": str(period["timestamp"].max()) if "timestamp" in period.columns else None},
        "rules": measures.rule_changes(old.rules(), new.rules(), titles, cfg.top),
        "products": products,
        "baskets": measures.basket_changes(old_baskets, period, fresh),
        "quality": measures.quality_changes(measures.quality(old.path), measures.quality(new.path)),
    }
    progress("scoring the old run's ranker on the new period")
    figures["old_model"] = _old_model(old, period, cfg)
    return DriftResult(old.path, new.path, figures, alerts(figures, cfg))


def _old_model(old: Run, period: pl.DataFrame, cfg: DriftConfig) -> dict[str, Any]:
    from graphassoc.recommend.service import Recommender

    rec = Recommender.load(old.path, cfg.method)
    seed = old.config.seed or 0
    own = old.baskets().filter(pl.col("split") == "test")
    return {"new_period": old_model_hr(rec, period, seed, cfg.max_queries),
            "own_test_period": old_model_hr(rec, own, seed, cfg.max_queries) if own.height else None}


def alerts(f: dict[str, Any], cfg: DriftConfig) -> list[str]:
    """One line per threshold crossed (`drift.*` names the setting)."""
    out = []
    checks = [
        (f["rules"]["vanished_share"], cfg.max_vanished_rules, "of the old rules vanished", "max_vanished_rules"),
        (f["rules"]["appeared_share"], cfg.max_appeared_rules, "of the new rules are new", "max_appeared_rules"),
        (abs(f["baskets"]["mean_size_shift"]), cfg.max_basket_size_shift, "change of the mean basket size",
         "max_basket_size_shift"),
        (f["products"]["new_item_share"], cfg.max_new_item_share, "of the items sold are new products",
         "max_new_item_share"),
        (abs(f["quality"]["dropped_share_shift"]), cfg.max_dropped_share_shift,
         "change of the share of lines dropped by cleaning", "max_dropped_share_shift"),
    ]
    for value, limit, what, key in checks:
        if value > limit:
            out.append(f"{value:.1%} {what} (drift.{key} = {limit:.1%})")
    hr = f["old_model"]["new_period"]["hr@10"]
    if cfg.min_old_model_hr10 is not None and hr is not None and hr < cfg.min_old_model_hr10:
        out.append(f"the old model's HR@10 on the new period is {hr:.3f} (drift.min_old_model_hr10 = "
                   f"{cfg.min_old_model_hr10:.3f})")
    return out
