"""Time per epoch and peak memory of each training mode on a run directory (CPU, or CUDA when asked).

Usage: .venv/bin/python bench/bench_train.py RUN_DIR [--modes frozen two-stage joint] [--epochs 1]
       [--threads 2] [--set train.samples_per_basket=2 ...]
Each mode runs in its own subprocess (so peak RSS is that mode's), into RUN_DIR/bench-models/
(never RUN/model/), with --epochs epochs. Prints seconds for the encoder stage (two-stage's contrastive
fine-tuning), seconds per epoch, peak RSS, peak CUDA memory, and validation HR@10.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, torch, yaml
torch.set_num_threads(int(sys.argv[3]))
from graphassoc.config import load_config
from graphassoc.model.training import train
run, root = sys.argv[1], sys.argv[2]
cfg = load_config(None, sys.argv[4:], base=yaml.safe_load(open(run + "/config.yaml")))
marks = {}
def hook(ev):
    if ev["phase"] == "train" and "first_step" not in marks:
        marks["first_step"] = time.perf_counter()
start = time.perf_counter()
r = train(run, cfg, on_step=hook, model_root=__import__("pathlib").Path(root), overwrite=True)
epochs = len(r.history)
prep = marks.get("first_step", start) - start
print(json.dumps({"mode": cfg.train.mode, "prep_s": round(prep, 1),
                  "epoch_s": round((r.history[-1]["seconds"] - prep) / max(epochs, 1), 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "peak_cuda_mb": round(torch.cuda.max_memory_allocated() / 2**20) if torch.cuda.is_available() else None,
                  "valid_hr10": r.best.get("hr@10"), "valid_hr10_never_seen": r.best.get("hr@10_never_seen"),
                  "device": r.device, "total_s": round(r.seconds, 1), "epochs": epochs,
                  "softmax": r.extra.get("softmax"), "n_items": __import__("polars").read_parquet(run + "/items.parquet").height}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--modes", nargs="+", default=["frozen", "two-stage", "joint"])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--set", dest="sets", action="append", default=[])
    args = ap.parse_args()
    root = Path(args.run_dir) / "bench-models"
    rows = []
    for mode in args.modes:
        sets = [f"train.mode={mode}", f"train.epochs={args.epochs}", *args.sets]
        proc = subprocess.run([sys.executable, "-c", CHILD, args.run_dir, str(root), str(args.threads), *sets],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{mode}: failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    shutil.rmtree(root, ignore_errors=True)
    print(f"{'mode':10} {'device':6} {'prep s':>8} {'s/epoch':>8} {'peak RSS MB':>12} {'peak CUDA MB':>13} {'valid HR@10':>12}")
    for r in rows:
        print(f"{r['mode']:10} {r['device']:6} {r['prep_s']:8.1f} {r['epoch_s']:8.1f} {r['peak_rss_mb']:12} "
              f"{str(r['peak_cuda_mb']):>13} {r['valid_hr10']:12.4f}")


if __name__ == "__main__":
    main()
