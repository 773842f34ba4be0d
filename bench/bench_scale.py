"""Scale benchmark: the whole CLI on growing workloads, seconds and peak memory per stage, fitted growth.

    python bench/bench_scale.py --sizes x1,x4,x16 --stages build-graph
    python bench/bench_scale.py --sizes syn:100000x2000000 --stages build-graph,train,compare,export
    python bench/bench_scale.py --sizes x1,x4 --stages build-graph,train --results /tmp/scale

Sizes: `xK` is the shared data replicated K times with disjoint ids (x1 is the file itself, with
--config online_retail); `syn:NxM` a synthetic shop of N items x M baskets and `grocery` a
49,688-item catalogue with 15k orders (bench/workloads.py, with their catalogue, default config).
Workloads are generated once under --data (outside the repository) and reused.

Each stage is one CLI command in its own subprocess (`graphassoc build-graph | train | compare |
export --format parquet`): its wall seconds and peak RSS come from os.wait4 (the child's own
rusage), its per-step timings from meta.json where the stage writes them. A stage that fails or
runs past --timeout is recorded with its last error line and the next stages of that size are
skipped (they need its output); the other sizes go on. The exponent of time against items and
against baskets is a least-squares line through log(seconds) over the sizes where the stage ran
(slope 1 = linear). Results: a table on stdout, results.json and scale.png under --results.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads  # noqa: E402  (bench/ is not a package)

STAGES = ("build-graph", "train", "compare", "export")
DATA = Path("/work/scale-data")


def prepare(size: str, data: Path) -> tuple[Path, Path | None, str | None]:
    """(transactions, catalogue or None, config preset or None) of a size, generated if missing."""
    if size == "x1":
        return workloads.SHARED, None, "online_retail"
    if size.startswith("x"):
        path = data / f"{size}.parquet"
        if not path.exists():
            workloads.replicate(workloads.SHARED, int(size[1:]), path)
        return path, None, "online_retail"
    if size == "grocery":
        shape = workloads.ShopShape(items=8_000, baskets=15_000, catalog_items=49_688, basket_median=8.0,
                                    basket_sigma=0.6, basket_max=80)
    elif size.startswith("syn:"):
        n_items, n_baskets = (int(v) for v in size[4:].lower().split("x"))
        shape = workloads.ShopShape(items=n_items, baskets=n_baskets)
    else:
        raise SystemExit(f"unknown size {size!r}: use xK, syn:NxM or grocery")
    folder = data / size.replace(":", "_")
    if not (folder / "catalog.parquet").exists():
        workloads.synthetic(shape, folder)
    return folder / "transactions.parquet", folder / "catalog.parquet", None


def command(stage: str, run: Path, tx: Path, catalog: Path | None, preset: str | None) -> list[str]:
    script = Path(sys.executable).parent / "graphassoc"  # the console script of this environment
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "graphassoc.cli.main"]
    config = ["--config", preset] if preset else []
    if stage == "build-graph":
        # A synthetic shop has no dated split: its last 10% of baskets in time are the test period that
        # compare evaluates (the default config holds out validation only).
        split = [] if preset else ["--set", "split.test_fraction=0.1"]
        return [*exe, "build-graph", "-t", str(tx), *(["--catalog", str(catalog)] if catalog else []),
                "--out", str(run), *config, *split, "--overwrite"]
    if stage == "export":
        return [*exe, "export", str(run), "--format", "parquet", "--out", str(run / "exports" / "bench-parquet"),
                "--overwrite"]
    return [*exe, stage, str(run), *config, "--overwrite"]


def run_stage(cmd: list[str], log: Path, timeout: float) -> dict[str, Any]:
    """Run one CLI command; its wall time, peak RSS (its own rusage via wait4) and exit code."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the command and its children only
                pid, status, usage = os.wait4(proc.pid, 0)
                status = -1
                break
            time.sleep(0.2)
    code = os.waitstatus_to_exitcode(status) if status != -1 else "timeout"
    tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-1:] if code else []
    # CPU seconds (user + system) beside the wall time: on a shared, loaded machine the wall time
    # grows with the load, the CPU time much less; on an idle 2-core one the wall time lies between
    # cpu_s / 2 (both cores busy) and cpu_s.
    return {"seconds": round(time.perf_counter() - start, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit": code, **({"error": tail[0][:300] if tail else ""} if code else {})}


def shape_of(run: Path) -> dict[str, Any]:
    meta = json.loads((run / "meta.json").read_text())
    summary = meta.get("summary", {})
    return {"items": summary.get("items"), "baskets": sum(summary.get("baskets", {}).values()),
            "load_average": round(os.getloadavg()[0], 1),
            "edges": summary.get("graph", {}).get("edges"), "timings": meta.get("timings", {})}


def measured_stages(rows: list[dict[str, Any]]) -> list[str]:
    """The stages with a figure for some size, in pipeline order (results accumulate across invocations)."""
    return [s for s in STAGES if any(s in r["stages"] for r in rows)]


def exponents(rows: list[dict[str, Any]], stage: str, key: str = "seconds") -> dict[str, float | None]:
    """Slope of log(key: wall or cpu seconds) against log(items) and log(baskets) over the sizes where `stage` ran."""
    ok = [r for r in rows if r["stages"].get(stage, {}).get("exit") == 0 and r.get("items")]
    out: dict[str, float | None] = {}
    for axis in ("items", "baskets"):
        xs = np.log([r[axis] for r in ok], dtype=float) if ok else np.zeros(0)
        ys = np.log([r["stages"][stage][key] for r in ok], dtype=float) if ok else np.zeros(0)
        out[axis] = round(float(np.polyfit(xs, ys, 1)[0]), 2) if len(set(xs.tolist())) >= 2 else None
    return out


def plot(rows: list[dict[str, Any]], stages: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for stage in stages:
        ok = [r for r in rows if r["stages"].get(stage, {}).get("exit") == 0 and r.get("items")]
        if not ok:
            continue
        ok.sort(key=lambda r: r["items"])
        xs = [r["items"] for r in ok]
        axes[0].loglog(xs, [r["stages"][stage]["seconds"] for r in ok], "o-", label=stage)
        axes[1].loglog(xs, [r["stages"][stage]["peak_rss_mb"] / 1024 for r in ok], "o-", label=stage)
    axes[0].set(xlabel="items", ylabel="seconds", title="time per stage")
    axes[1].set(xlabel="items", ylabel="peak RSS (GB)", title="peak memory per stage")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def table(rows: list[dict[str, Any]], stages: list[str]) -> str:
    lines = [f"{'size':<20}{'items':>9}{'baskets':>10}{'edges':>12}  "
             + "".join(f"{s + ' wall s (cpu s) / GB':>34}" for s in stages)]
    for r in rows:
        cells = []
        for s in stages:
            st = r["stages"].get(s)
            cells.append("-" if st is None else f"{st['seconds']:.1f} ({st['cpu_s']:.1f}) / {st['peak_rss_mb'] / 1024:.2f}"
                         + ("" if st["exit"] == 0 else f" ({st['exit']})"))
        lines.append(f"{r['size']:<20}{r.get('items') or '-':>9}{r.get('baskets') or '-':>10}{r.get('edges') or '-':>12}  "
                     + "".join(f"{c:>34}" for c in cells))
    for key in ("seconds", "cpu_s"):
        lines.append(f"exponent of {key} vs items / vs baskets: " + ", ".join(
            f"{s} {e['items']} / {e['baskets']}" for s in stages for e in [exponents(rows, s, key)]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="x1,x4,x16")
    parser.add_argument("--stages", default="build-graph")
    parser.add_argument("--data", type=Path, default=DATA, help="where workloads are generated (not the repo)")
    parser.add_argument("--results", type=Path, default=DATA / "bench_scale")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per stage before it is killed")
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    if unknown := set(stages) - set(STAGES):
        raise SystemExit(f"unknown stage(s) {sorted(unknown)}; choose from {', '.join(STAGES)}")
    args.results.mkdir(parents=True, exist_ok=True)
    # Results accumulate across invocations (a size's stages can run one at a time, the slow ones
    # apart): a size and stage measured again replaces its earlier figure.
    saved = args.results / "results.json"
    rows: list[dict[str, Any]] = json.loads(saved.read_text())["rows"] if saved.exists() else []
    for size in args.sizes.split(","):
        tx, catalog, preset = prepare(size, args.data)
        run = args.results / "runs" / size.replace(":", "_")
        row = next((r for r in rows if r["size"] == size), None)
        if row is None:
            row = {"size": size, "stages": {}}
            rows.append(row)
        for stage in stages:
            print(f"{size}: {stage} ...", flush=True)
            result = run_stage(command(stage, run, tx, catalog, preset), args.results / f"{run.name}.{stage}.log",
                               args.timeout)
            row["stages"][stage] = result
            if stage == "build-graph" and result["exit"] == 0:
                row.update(shape_of(run))
            print(f"  {result}", flush=True)
            if result["exit"] != 0:
                break  # later stages read this one's output
        measured = measured_stages(rows)
        saved.write_text(json.dumps(
            {"rows": rows, "exponents": {s: {k: exponents(rows, s, k) for k in ("seconds", "cpu_s")} for s in measured}},
            indent=2, default=str))
    measured = measured_stages(rows)
    print(table(rows, measured))
    plot(rows, measured, args.results / "scale.png")
    print(f"results: {args.results / 'results.json'}, {args.results / 'scale.png'}")


if __name__ == "__main__":
    main()
