"""A small hand-made run directory with clear co-purchase structure, and a tiny random BERT."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from graphassoc.config import load_config
from graphassoc.graph.config import GraphConfig
from graphassoc.graph.copurchase import build_copurchase

COLOURS = ["red", "blue", "green", "white", "pink"]
THINGS = ["mug", "bag", "box", "light", "heart", "cake", "stand", "holder"]


def make_run(path: Path, model_dir: Path, seed: int = 0) -> Path:
    """40 items in 5 colour families; baskets mix items of one family; 2 items are sold only after the cut."""
    rng = np.random.default_rng(seed)
    items = [(f"{c[:1].upper()}{k}", f"{c} {t}") for c in COLOURS for k, t in enumerate(THINGS)]
    ids = [i for i, _ in items]
    new_items = {"R7", "B7"}  # "red holder", "blue holder": no sales before valid
    rows, start = [], datetime(2024, 1, 1)
    for b in range(300):
        family = COLOURS[int(rng.integers(len(COLOURS)))]
        pool = [i for i, (_, t) in zip(ids, items) if t.startswith(family)]
        split = "train" if b < 200 else ("valid" if b < 250 else "test")
        if split == "train":
            pool = [i for i in pool if i not in new_items]
        chosen = sorted(set(rng.choice(pool, size=int(rng.integers(2, 5)), replace=False).tolist()))
        rows.append({"basket_id": f"b{b:03d}", "items": chosen, "timestamp": start + timedelta(hours=b),
                     "user_id": None, "split": split})
    baskets = pl.DataFrame(rows, schema={"basket_id": pl.Utf8, "items": pl.List(pl.Utf8), "timestamp": pl.Datetime("us"),
                                         "user_id": pl.Utf8, "split": pl.Utf8})
    train = baskets.filter(pl.col("split") == "train")
    pop = {i: 0 for i in ids}
    for basket in train["items"].to_list():
        for i in basket:
            pop[i] += 1
    cat = pl.DataFrame({"item_id": ids, "title": [t for _, t in items], "description": [None] * len(ids),
                        "category": [None] * len(ids), "price": [1.0] * len(ids), "popularity": [pop[i] for i in ids]})
    path.mkdir(parents=True)
    cfg = load_config(None, ["seed=0", f"text.model={model_dir}"])
    (path / "config.yaml").write_text(cfg.to_yaml())
    baskets.write_parquet(path / "baskets.parquet")
    cat.write_parquet(path / "items.parquet")
    build_copurchase(cat, train, GraphConfig(min_count=1)).save(path / "graph")
    return path


# Small and fast: a few epochs of a few steps on the tiny run.
FAST = ["train.epochs=3", "train.batch_size=32", "train.hidden=16", "train.neighbours=5", "train.patience=10",
        "train.contrastive_steps=4", "train.contrastive_batch=8", "train.joint_items=8", "train.refresh_steps=3",
        "train.warmup_steps=2", "text.batch_size=16"]


def tiny_config(run: Path, *extra: str):
    base = yaml.safe_load((run / "config.yaml").read_text())
    return load_config(None, FAST + list(extra), base=base)


class StopTraining(Exception):
    """Raised by stop_at's hook: a run interrupted the way a kill would leave it."""


def stop_at(epoch: int, step: int):
    """A train(on_step=...) hook that stops the run at this step of this epoch. The step's hook runs before
    its checkpoint, so with train.checkpoint_steps=1 the run resumes from step - 1's."""

    def hook(ev: dict) -> None:
        if ev["phase"] == "train" and ev["epoch"] == epoch and ev["step"] == step:
            raise StopTraining

    return hook
