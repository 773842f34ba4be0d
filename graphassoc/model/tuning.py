"""`tune`: random or grid search over train/text config keys, scored on validation only."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl
import yaml

from graphassoc.config import Config, load_config, read_yaml
from graphassoc.errors import UsageError
from graphassoc.model.checkpoint import rank_key
from graphassoc.runs import Run, atomic_dir, write_parquet

Progress = Callable[[str], None]


def read_space(path: str | Path) -> dict[str, list[Any]]:
    """A YAML mapping of dotted config keys to lists of values, e.g. `train.lr: [0.001, 0.003]`."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"search space file '{path}' does not exist; give a YAML file like 'train.lr: [0.001, 0.003]'")
    example = "it must map dotted keys to non-empty lists, e.g. 'train.hidden: [64, 128]'"
    space = read_yaml(p, "search space", example)
    if not space or not all(isinstance(v, list) and v for v in space.values()):
        raise UsageError(f"search space '{p}' must map dotted keys to non-empty lists, e.g. 'train.hidden: [64, 128]'")
    return {str(k): v for k, v in space.items()}


def trials_of(space: dict[str, list[Any]], n: int, method: str, seed: int) -> list[dict[str, Any]]:
    keys = list(space)
    grid = [dict(zip(keys, combo)) for combo in itertools.product(*(space[k] for k in keys))]
    if method == "grid":
        return grid[:n]
    rng = np.random.default_rng(seed)
    return [grid[i] for i in rng.choice(len(grid), size=min(n, len(grid)), replace=False)]


@dataclass
class TuneResult:
    table: pl.DataFrame  # one row per trial: the values tried and the validation metrics
    best: dict[str, Any]  # the best trial's overrides
    best_config: Config

    def save(self, directory: Path) -> None:
        write_parquet(directory / "results.parquet", self.table)
        self.table.write_csv(directory / "results.csv")
        (directory / "best.yaml").write_text(yaml.safe_dump(
            {"train": self.best_config.train.model_dump(mode="json"), "text": self.best_config.text.model_dump(mode="json")},
            sort_keys=False))
        (directory / "best_overrides.yaml").write_text(yaml.safe_dump(self.best, sort_keys=False))


def tune(run_dir: str | Path, cfg: Config, space: dict[str, list[Any]], trials: int, method: str = "random",
         progress: Progress = lambda _m: None, overwrite: bool = False) -> TuneResult:
    """Train one model per trial into RUN/tune/ (never RUN/model/) and rank them as early stopping ranks epochs."""
    from graphassoc.model.training import train

    run = Run(run_dir, "items.parquet", "baskets.parquet", "graph/edges.parquet")
    if method not in ("random", "grid"):
        raise UsageError(f"unknown search method '{method}'; valid: random, grid")
    base = cfg.model_dump(mode="json")
    configs = []
    for values in trials_of(space, trials, method, int(cfg.seed or 0)):
        overrides = [f"{k}={yaml.safe_dump(v, default_flow_style=True).strip().removesuffix('...').strip()}" for k, v in values.items()]
        configs.append((values, load_config(None, overrides, base=base)))  # validates every trial up front
    rows, keys = [], []
    with atomic_dir(run.path / "tune", overwrite=overwrite) as tmp:
        for i, (values, trial_cfg) in enumerate(configs):
            progress(f"trial {i + 1}/{len(configs)}: {values}")
            trial_cfg = trial_cfg.model_copy(update={"train": trial_cfg.train.model_copy(update={"name": f"trial-{i + 1}"})})
            result = train(run.path, trial_cfg, progress=progress, model_root=tmp / "trials")
            keys.append(rank_key(result.best))
            rows.append({"trial": i + 1, **{k: str(v) for k, v in values.items()},
                         **{f"valid_{k}": v for k, v in result.best.items()}, "best_epoch": result.best_epoch,
                         "seconds": round(result.seconds, 1)})
            shutil.rmtree(tmp / "trials" / f"trial-{i + 1}" / "model-last", ignore_errors=True)
        # The order early stopping uses (checkpoint.rank_key): reaching train.new_item_hr first, then HR@10.
        order = sorted(range(len(rows)), key=lambda r: keys[r], reverse=True)
        table = pl.DataFrame([rows[r] for r in order])
        best_trial = int(table["trial"][0]) - 1
        result = TuneResult(table, configs[best_trial][0], configs[best_trial][1])
        result.save(tmp)
    return result
