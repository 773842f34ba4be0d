"""Spark local[2] against the single-machine path (polars + fim), side by side, on the shared data
and on its x16 replication: per-stage time and peak memory, and whether the run directories agree.

    .venv/bin/python bench/bench_spark.py                        # x1 and x16 (made if absent)
    .venv/bin/python bench/bench_spark.py --sizes x1 --master 'local[2]'

Both paths run `graphassoc.pipeline.build_graph` with the online_retail preset (min_support 0.005,
graph.min_count 2), each in its own child process:
- local: polars data stages, mining.engine=fim, the scipy co-purchase graph (the default);
- spark: spark.data_jobs=true and mining.engine=spark on a local[2] session (JVM start included
  in the wall time, not in the stages).
Times: meta.json's per-stage seconds and the child's wall time. Peak memory: the highest RSS sum
of the child's process tree (the Python driver plus Spark's JVM), sampled every 0.2 s.
x16: 16 copies of the data with disjoint invoice, item and customer ids (the file of the scale
work, /work/scale-data/x16.parquet, when present; else made here the same way).

On one machine Spark is slower: a JVM, task scheduling and shuffles for what polars does in one
process. The point is the path beyond one machine, with the same results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("/work/shared/data/online_retail.parquet")
X16 = Path("/work/scale-data/x16.parquet")
TABLES = ["baskets.parquet", "items.parquet", "itemsets.parquet", "rules.parquet", "graph/nodes.parquet",
          "graph/edges.parquet"]
STAGES = ["ingest", "clean", "split", "mining", "graph"]
CHILD = """
import sys
from graphassoc.config import load_config
from graphassoc.pipeline import build_graph
build_graph(load_config("online_retail", sys.argv[3:]), sys.argv[1], None, sys.argv[2])
"""


def replicate(src: Path, dst: Path, copies: int = 16) -> Path:
    """copies of the data with disjoint invoice, item and customer ids (a bigger shop, same shape)."""
    df = pl.read_parquet(src)
    parts = [df.with_columns((pl.col("InvoiceNo") + f"-{k}").alias("InvoiceNo"),
                             (pl.col("StockCode") + f"-{k}").alias("StockCode"),
                             (pl.col("CustomerID") + k * 100_000).alias("CustomerID")) for k in range(copies)]
    pl.concat(parts).write_parquet(dst)
    return dst


def tree_rss(pid: int) -> int:
    """RSS in bytes of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run(path: Path, out: Path, overrides: list[str]) -> dict[str, object]:
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(out), *overrides], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while child.poll() is None:
            peak[0] = max(peak[0], tree_rss(child.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = child.communicate()
    sampler.join()
    if child.returncode:
        raise SystemExit(f"run {overrides} failed:\n{err[-3000:]}")
    meta = json.loads((out / "meta.json").read_text())
    return {"wall": time.perf_counter() - start, "peak_gb": peak[0] / 2**30,
            "stages": {s: meta["timings"][s]["seconds"] for s in STAGES}, "summary": meta["summary"]}


def same_tables(a: Path, b: Path) -> dict[str, bool]:
    return {t: pl.read_parquet(a / t).equals(pl.read_parquet(b / t)) for t in TABLES}


def bench(name: str, path: Path, master: str, tmp: Path) -> None:
    local = run(path, tmp / f"{name}-local", ["seed=0"])
    spark = run(path, tmp / f"{name}-spark", ["seed=0", "spark.data_jobs=true", "mining.engine=spark",
                                              f"spark.master={master}"])
    s = local["summary"]
    print(f"\n## {name}: {path} ({sum(s['baskets'].values()):,} baskets, {s['items']:,} items, "  # type: ignore[index]
          f"{s['rules']:,} rules, {s['graph']['edges']:,} edges)")  # type: ignore[index]
    print(f"| stage | local (polars + fim) s | spark {master} s | spark / local |")
    print("|---|---|---|---|")
    for stage in STAGES:
        a, b = local["stages"][stage], spark["stages"][stage]  # type: ignore[index]
        print(f"| {stage} | {a:.1f} | {b:.1f} | {b / max(a, 1e-3):.1f}x |")
    print(f"| wall (process) | {local['wall']:.1f} | {spark['wall']:.1f} | {spark['wall'] / local['wall']:.1f}x |")  # type: ignore[operator]
    print(f"| peak RSS, GB (driver + JVM) | {local['peak_gb']:.2f} | {spark['peak_gb']:.2f} | "
          f"{spark['peak_gb'] / local['peak_gb']:.1f}x |")  # type: ignore[operator]
    same = same_tables(tmp / f"{name}-local", tmp / f"{name}-spark")
    print("identical tables: " + ", ".join(f"{t} {'yes' if ok else 'NO'}" for t, ok in same.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sizes", default="x1,x16", help="x1, x16 or both, comma-separated")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp_name:
        tmp = Path(tmp_name)
        for size in args.sizes.split(","):
            if size == "x1":
                bench("x1", args.data, args.master, tmp)
            elif size == "x16":
                path = X16 if X16.is_file() else replicate(args.data, tmp / "x16.parquet")
                bench("x16", path, args.master, tmp)
            else:
                raise SystemExit(f"unknown size '{size}'; use x1 and/or x16")


if __name__ == "__main__":
    main()
