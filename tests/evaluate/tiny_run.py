"""A small synthetic run directory (themes of co-bought items, new products in test), built with the
real build-graph pipeline so compare and the rankers read exactly what users' runs hold."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

THEMES = {"candle": ["red", "blue", "white", "gold", "pink", "black", "green", "lace", "tall", "mini"],
          "mug": ["red", "blue", "white", "gold", "pink", "black", "green", "lace", "tall", "mini"],
          "bag": ["red", "blue", "white", "gold", "pink", "black", "green", "lace", "tall", "mini"]}
NEW = {"n1": "gold candle holder", "n2": "lace mug set"}


def catalog() -> pl.DataFrame:
    ids, titles = [], []
    for t, (theme, words) in enumerate(THEMES.items()):
        for w, word in enumerate(words):
            ids.append(f"{theme[0]}{w}")
            titles.append(f"{word} {theme}")
    return pl.DataFrame({"item_id": ids + list(NEW), "title": titles + list(NEW.values())})


def transactions(seed: int = 0, n_baskets: int = 400) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    start = date(2024, 1, 1)
    for b in range(n_baskets):
        day = start + timedelta(days=int(b * 100 / n_baskets))
        theme = list(THEMES)[int(rng.integers(3))]
        # Within a theme, low ids are bought far more often: a skewed, learnable co-purchase structure.
        size = int(rng.integers(2, 6))
        picks = set(rng.choice(10, size=size, replace=False, p=np.linspace(2, 0.2, 10) / np.linspace(2, 0.2, 10).sum()))
        items = [f"{theme[0]}{p}" for p in sorted(picks)]
        if day >= date(2024, 3, 21) and rng.random() < 0.3:  # new products only sell in the test period
            items.append("n1" if theme == "candle" else "n2")
        for item in items:
            rows.append({"basket_id": f"B{b:04d}", "item_id": item, "timestamp": f"{day.isoformat()} 10:00:00",
                         "user_id": f"u{int(rng.integers(40))}", "quantity": 1})
    return pl.DataFrame(rows)


def build_tiny_run(root: Path, **overrides: str) -> Path:
    from graphassoc.config import load_config
    from graphassoc.pipeline import build_graph

    root.mkdir(parents=True, exist_ok=True)
    tx, cat = root / "tx.csv", root / "catalog.csv"
    transactions().write_csv(tx)
    catalog().write_csv(cat)
    sets = ["seed=0", "split.valid_start=2024-03-01", "split.test_start=2024-03-21", "mining.min_support=0.02",
            "mining.min_confidence=0.05", "graph.min_count=1", "rankers.rules_min_support=0.02",
            "evaluate.n_bootstrap=200", "rankers.ease_lambdas=[1.0, 10.0, 100.0]",
            *[f"{k}={v}" for k, v in overrides.items()]]
    out = root / "run"
    build_graph(load_config(None, sets), tx, cat, out)
    return out
