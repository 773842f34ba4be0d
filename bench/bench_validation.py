"""Validation's cost and choice on a trained run: one `validate()` call as training makes after each epoch.

    python bench/bench_validation.py RUN [--mode frozen]

Scores the run's validation queries with its saved model (model-best) on the validation evidence
(train baskets), sweeps the new-item offset with the GNN tower on and off (model/validation.py)
and prints the seconds of each sweep, the setting kept and its validation HR@10 overall and on
never-seen targets. What it answers: what the second sweep adds to an epoch at a given size, and
what validation would choose for a model trained before the tower switch existed.
Measured December 2026 on the synthetic 100k x 2M shop (`bench_scale.py --sizes syn:100000x2000000`):
9,395 calibration queries, 30 s a sweep; tower kept out, never-seen 0.252 at overall 0.276.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import graphassoc.model.validation as validation
from graphassoc.config import load_run_config
from graphassoc.evaluate.protocol import tiebreak_positions
from graphassoc.model.data import load_data
from graphassoc.model.load import from_pretrained
from graphassoc.runs import Run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--mode", default="frozen")
    args = ap.parse_args()
    start = time.perf_counter()
    run = Run(args.run, "items.parquet", "baskets.parquet")
    cfg = load_run_config(args.run)
    data = load_data(run, cfg, cfg.seed)
    model = from_pretrained(run.path / "model" / args.mode / "model-best", evidence=("train",))
    pos = tiebreak_positions(model.popularity.astype(np.float64))
    print(f"loaded in {time.perf_counter() - start:.0f} s: {data.n_items:,} items, "
          f"{len(data.calibration):,} calibration queries, {len(data.valid):,} validation queries")
    sweeps: list[float] = []
    calibrate = validation.calibrate_new_items

    def timed(*a, **kw):
        t = time.perf_counter()
        out = calibrate(*a, **kw)
        sweeps.append(time.perf_counter() - t)
        return out

    validation.calibrate_new_items = timed
    t = time.perf_counter()
    metrics, cal = validation.validate(model.net, model.text, model.evidence, data, pos, cfg.train.new_item_hr,
                                       torch.device("cpu"))
    print(f"validate: {time.perf_counter() - t:.0f} s, sweeps (tower on, off) {', '.join(f'{s:.0f} s' for s in sweeps)}")
    print(f"kept: tower {'on' if cal.tower_on else 'off'}, offset {cal.chosen:+.2f}, target met {cal.target_met}, "
          f"valid HR@10 {metrics['select']:.4f}, never-seen {metrics['select_never_seen']:.4f}")


if __name__ == "__main__":
    main()
