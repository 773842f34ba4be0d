"""`graphassoc compare` at growing size: seconds and peak RSS per run, dense vs sparse EASE side by side.

Runs are built by build-graph (e.g. on bench/workloads.py's replications of the shared data):
    graphassoc build-graph -t /work/scale-data/x4.parquet --config online_retail --out /tmp/x4
    python bench/bench_compare.py /tmp/x1 /tmp/x4 /tmp/x16 [--rankers popularity cooccurrence rules ease]

Per run directory (copied, hard-linked, to a scratch directory: the original is never written):
1. `compare` with the given rankers and the default `ease.method=auto` (dense while it fits and
   n <= ease.dense_max_items, else sparse), as a user runs it: total seconds, peak RSS (of the
   whole process, /usr/bin/time), per ranker HR@10 and seconds;
2. `compare` with EASE alone under the other method(s): the peer of the side-by-side (dense EASE is
   refused by the memory guard where it would not fit; the table says so).
Then a fitted growth exponent b of seconds ~ items^b (least squares on logs) per configuration.

`--fit-only`: EASE's fit alone (gram, neighbourhoods, the lambda grid on the test evidence) per run and
method, each in its own process: seconds per step and peak RSS; where a whole compare does not fit
the time at hand, this is the part whose cost changed from O(n^3) to O(n K^3).
A model ranker is included when the run holds a trained model and `model` is in --rankers.
The target of issue 9: x16 (62k items, 316k baskets) in <= 15 min and <= 12 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

DEFAULT_RANKERS = ["popularity", "cooccurrence", "rules", "ease", "text", "model", "hybrid"]


def copy_run(src: Path, dst: Path) -> Path:
    """The run as hard links (parquet files are never rewritten in place), without an old compare/."""
    shutil.copytree(src, dst, copy_function=os.link, ignore=shutil.ignore_patterns("compare", "recommend"))
    return dst


def run_compare(run_dir: Path, rankers: list[str], sets: list[str], timeout: float) -> dict:
    """One `graphassoc compare` in its own process: wall seconds, peak RSS, headline per ranker."""
    time_file = run_dir.parent / f"{run_dir.name}.time"
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(time_file), str(Path(sys.executable).parent / "graphassoc"),
           "compare", str(run_dir), "--overwrite", "--set", f"evaluate.rankers=[{','.join(rankers)}]"]
    for item in sets:
        cmd += ["--set", item]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return {"error": next((x for x in reversed(lines) if x.strip() and "Command exited" not in x), "failed")[:160]}
    seconds, rss_kb = time_file.read_text().split()[-2:]
    metrics = json.loads((run_dir / "compare" / "metrics.json").read_text())
    return {"seconds": float(seconds), "peak_rss_gb": int(rss_kb) / 2**20,
            "rankers": {name: {"hr@10": m["overall"]["hr@10"], "seconds": m["seconds"],
                               "method": m["notes"].get("method"), "lambda": m["notes"].get("lambda")}
                        for name, m in metrics["metrics"].items()},
            "skipped": metrics["skipped"]}


def fit_one(run_dir: Path, method: str) -> dict:
    """EASE fitted on the test phase's evidence for the whole lambda grid, as the ranker does it."""
    import resource
    import time

    from graphassoc.graph.ease import fit_ease_gram, gram, neighbourhoods, sparse_ease_path
    from graphassoc.graph.ease_config import EaseConfig
    from graphassoc.rankers.context import RankContext
    from graphassoc.runs import Run

    run = Run(run_dir)
    ctx = RankContext(run.path, run.items(), run.baskets(), "test", 0, run.config.evaluate, run.config)
    cfg, grid, out = EaseConfig(method=method), run.config.rankers.ease_lambdas, {"method": method}
    t = time.perf_counter()
    x = ctx.evidence
    out["evidence_s"], t = time.perf_counter() - t, time.perf_counter()
    g = gram(x)
    out["gram_s"], t = time.perf_counter() - t, time.perf_counter()
    if method == "sparse":
        hoods = neighbourhoods(g, cfg.neighbours)
        out["neighbourhoods_s"], t = time.perf_counter() - t, time.perf_counter()
        fits = sparse_ease_path(g, list(grid), hoods)
        out["nnz"] = int(fits[0].nnz)
    else:
        fits = [fit_ease_gram(g, lam, cfg) for lam in grid]
    out["grid_fit_s"] = time.perf_counter() - t
    out["lambdas"], out["peak_rss_gb"] = len(grid), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def fit_only(runs: list[Path], methods: list[str], timeout: float) -> None:
    for src in runs:
        items, baskets = size_of(src)
        for method in methods:
            proc = subprocess.run([sys.executable, __file__, "--fit-one", str(src), method],
                                  capture_output=True, text=True, timeout=timeout)
            lines = (proc.stdout or proc.stderr).strip().splitlines()
            print(json.dumps({"items": items, "baskets": baskets, "method": method,
                              **(json.loads(lines[-1]) if proc.returncode == 0 else {"error": lines[-1][:200] if lines else "failed"})}),
                  flush=True)


def size_of(run_dir: Path) -> tuple[int, int]:
    items = pl.scan_parquet(run_dir / "items.parquet").select(pl.len()).collect().item()
    baskets = pl.scan_parquet(run_dir / "baskets.parquet").select(pl.len()).collect().item()
    return int(items), int(baskets)


def exponent(sizes: list[int], seconds: list[float]) -> float | None:
    """b in seconds ~ items^b: slope of the least-squares line through (log items, log seconds)."""
    if len(sizes) < 2:
        return None
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="*")
    parser.add_argument("--rankers", nargs="+", default=DEFAULT_RANKERS)
    parser.add_argument("--peer-methods", nargs="+", default=["dense", "sparse"],
                        help="EASE methods run alone next to the auto run")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--fit-only", action="store_true", help="time EASE's fit alone per method (--peer-methods)")
    parser.add_argument("--fit-one", nargs=2, metavar=("RUN", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_one:
        print(json.dumps(fit_one(Path(args.fit_one[0]), args.fit_one[1])))
        return
    if args.fit_only:
        fit_only(args.runs, args.peer_methods, args.timeout)
        return

    results = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        for i, src in enumerate(args.runs):
            items, baskets = size_of(src)
            row = {"run": str(src), "items": items, "baskets": baskets}
            row["auto"] = run_compare(copy_run(src, Path(tmp) / f"r{i}-auto"), args.rankers, [], args.timeout)
            for method in args.peer_methods:
                row[f"ease-{method}"] = run_compare(copy_run(src, Path(tmp) / f"r{i}-{method}"), ["ease"],
                                                    [f"ease.method={method}"], args.timeout)
            results.append(row)
            print(json.dumps(row), flush=True)
    report(results, args.peer_methods)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def report(results: list[dict], methods: list[str]) -> None:
    print(f"\n{'items':>7} {'baskets':>8}  {'compare (auto)':>16} {'peak RSS':>9}  "
          + "  ".join(f"{'EASE ' + m:>24}" for m in ["auto", *methods]))
    for r in results:
        auto = r["auto"]
        head = (f"{auto['seconds']:>14.0f} s {auto['peak_rss_gb']:>7.1f} GB" if "seconds" in auto
                else f"{auto['error'][:26]:>26}")
        cells = [_ease_cell(auto)] + [_ease_cell(r[f"ease-{m}"]) for m in methods]
        print(f"{r['items']:>7,} {r['baskets']:>8,}  {head}  " + "  ".join(f"{c:>24}" for c in cells))
        if "rankers" in auto:
            print("         " + ", ".join(f"{n} {v['hr@10']:.3f} ({v['seconds']:.0f} s)" for n, v in auto["rankers"].items()))
    for key in ["auto", *[f"ease-{m}" for m in methods]]:
        ok = [r for r in results if "seconds" in r[key]]
        b = exponent([r["items"] for r in ok], [r[key]["seconds"] for r in ok])
        if b is not None:
            print(f"growth exponent of {key} seconds vs items: {b:.2f} (over {len(ok)} sizes)")


def _ease_cell(entry: dict) -> str:
    if "error" in entry:
        return "failed: " + entry["error"][:16]
    ease = entry["rankers"].get("ease")
    if ease is None:
        return "-"
    return f"{ease['method']} {ease['hr@10']:.3f}, {ease['seconds']:.0f} s"


if __name__ == "__main__":
    main()
