"""Benchmark the mining step on the full shared data against mlxtend and pyfim, side by side.

    .venv/bin/python bench/bench_mining.py                  # 3 repeats, best-of
    .venv/bin/python bench/bench_mining.py --repeats 5 --data /path/to/online_retail.parquet
    .venv/bin/python bench/bench_mining.py --run RUN_DIR    # the train baskets build-graph's mining stage sees

Data: /work/shared/data/online_retail.parquet cleaned as its README says (drop C/A invoices,
Quantity <= 0, UnitPrice <= 0, missing Description, StockCodes not starting with 5 digits), one
sorted unique list of StockCodes per invoice; min_support 0.005, min_confidence 0.1.

Every engine starts from the same basket lists and its time covers encode + itemsets + rules:
- mlxtend: TransactionEncoder (sparse) -> sparse DataFrame -> fpgrowth -> association_rules;
- pyfim: fim.fpgrowth(target="r", mode="o"), pyfim's own rules (single-item consequents), as in
  the data README's reference table;
- ours: graphassoc.mining.mine() with the default engine (fim), the whole stage: encode, itemsets,
  all of mlxtend's rules and measures, and the polars tables with string item ids.
Times: all engines in this one process, interleaved, best of --repeats. Peak memory: each engine
once more in its own child process (Linux) that reads the cleaned baskets from a Parquet file:
peak RSS (VmHWM, reset after loading the data and importing the engine's modules) and that peak
minus the RSS before the engine ran, i.e. what the engine's work itself added.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("/work/shared/data/online_retail.parquet")
MIN_SUPPORT, MIN_CONFIDENCE = 0.005, 0.1
IMPORTS = {"mlxtend": ["pandas", "mlxtend.frequent_patterns", "mlxtend.preprocessing"], "pyfim": ["fim"],
           "ours": ["graphassoc.mining", "graphassoc.mining.config"]}


def load_baskets(path: Path) -> pl.Series:
    lines = pl.read_parquet(path).filter(
        ~pl.col("InvoiceNo").str.starts_with("C") & ~pl.col("InvoiceNo").str.starts_with("A")
        & (pl.col("Quantity") > 0) & (pl.col("UnitPrice") > 0) & pl.col("Description").is_not_null()
        & pl.col("StockCode").str.contains(r"^\d{5}")
    )
    return lines.group_by("InvoiceNo").agg(pl.col("StockCode").unique().sort()).sort("InvoiceNo")["StockCode"]


def run_mlxtend(baskets: list[list[str]]) -> tuple[int, int]:
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    enc = TransactionEncoder()
    onehot = enc.fit(baskets).transform(baskets, sparse=True)
    frame = pd.DataFrame.sparse.from_spmatrix(onehot, columns=enc.columns_)
    itemsets = fpgrowth(frame, min_support=MIN_SUPPORT, use_colnames=True)
    rules = association_rules(itemsets, num_itemsets=len(baskets), metric="confidence", min_threshold=MIN_CONFIDENCE)
    return len(itemsets), len(rules)


def run_pyfim(baskets: list[list[str]]) -> tuple[int, int]:
    import fim

    min_count = math.ceil(MIN_SUPPORT * len(baskets))
    # mode "o": rule support = support of body and head (mlxtend's), not of the body alone.
    rules = fim.fpgrowth(baskets, target="r", supp=-min_count, conf=100 * MIN_CONFIDENCE, report="aC", mode="o")
    return -1, len(rules)  # pyfim's rule target does not hand out the itemsets


def run_ours(baskets: pl.Series) -> tuple[int, int]:
    from graphassoc.mining import mine
    from graphassoc.mining.config import MiningConfig

    result = mine(baskets, MiningConfig(min_support=MIN_SUPPORT, min_confidence=MIN_CONFIDENCE))
    return result.itemsets.height, result.rules.height


def engines(series: pl.Series) -> dict[str, Callable[[], tuple[int, int]]]:
    lists = series.to_list()
    return {"mlxtend": lambda: run_mlxtend(lists), "pyfim": lambda: run_pyfim(lists), "ours": lambda: run_ours(series)}


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def child(baskets: Path, name: str) -> None:
    """One engine, once, in a fresh process: print its peak memory as JSON.

    It reads the baskets the parent saved (not the raw file, whose loading would leave freed
    memory for the engine to reuse unseen), resets the peak-RSS mark (VmHWM, `5` into
    /proc/self/clear_refs), and reports the peak and the peak minus the RSS before the engine.
    """
    run = engines(pl.read_parquet(baskets).to_series())[name]
    for module in IMPORTS[name]:  # imported before the reset: the peak is the engine's data, not its code
        importlib.import_module(module)
    Path("/proc/self/clear_refs").write_text("5")
    before = status_mb("VmRSS")
    run()
    peak = status_mb("VmHWM")
    print(json.dumps({"engine": name, "peak_rss_mb": round(peak, 1), "added_mb": round(peak - before, 1)}))


def check_identical(series: pl.Series) -> bool:
    """Our rules equal mlxtend's: same (antecedent, consequent) pairs and confidences."""
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    from graphassoc.mining import mine
    from graphassoc.mining.config import MiningConfig
    from graphassoc.mining.measures import MEASURES

    lists = series.to_list()
    enc = TransactionEncoder()
    frame = pd.DataFrame.sparse.from_spmatrix(enc.fit(lists).transform(lists, sparse=True), columns=enc.columns_)
    ref = association_rules(fpgrowth(frame, min_support=MIN_SUPPORT, use_colnames=True), num_itemsets=len(lists),
                            metric="confidence", min_threshold=MIN_CONFIDENCE)
    ours = mine(series, MiningConfig(min_support=MIN_SUPPORT, min_confidence=MIN_CONFIDENCE)).rules
    theirs = {(tuple(sorted(a)), tuple(sorted(c))): tuple(row) for a, c, row in
              zip(ref["antecedents"], ref["consequents"], ref[MEASURES].itertuples(index=False))}
    mine_ = {(tuple(a), tuple(c)): tuple(row) for a, c, row in
             zip(ours["antecedents"].to_list(), ours["consequents"].to_list(), ours.select(MEASURES).iter_rows())}
    return theirs == mine_  # exact float equality, every measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--run", type=Path, help="mine this run directory's train baskets (baskets.parquet): "
                        "the input of build-graph's mining stage, as the user runs it")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--no-memory", action="store_true", help="skip the child processes measuring peak memory")
    args = parser.parse_args()
    if args.child:
        child(args.data, args.child)  # --data is the parent's baskets file here
        return

    if args.run:
        series = pl.read_parquet(args.run / "baskets.parquet").filter(pl.col("split") == "train")["items"]
    else:
        series = load_baskets(args.data)
    print(f"{series.len():,} baskets, {series.explode().n_unique():,} items; min_support {MIN_SUPPORT}, "
          f"min_confidence {MIN_CONFIDENCE}; best of {args.repeats}", flush=True)
    runs = engines(series)
    best: dict[str, float] = {}
    counts: dict[str, tuple[int, int]] = {}
    for _ in range(args.repeats):
        for name, run in runs.items():  # interleaved, so a slow spell of the machine hits all engines
            start = time.perf_counter()
            counts[name] = run()
            best[name] = min(best.get(name, math.inf), time.perf_counter() - start)
    memory: dict[str, dict[str, Any]] = {}
    if not args.no_memory:
        with tempfile.TemporaryDirectory() as tmp:
            saved = Path(tmp) / "baskets.parquet"
            series.to_frame().write_parquet(saved)
            for name in runs:
                out = subprocess.run([sys.executable, __file__, "--data", str(saved), "--child", name],
                                     capture_output=True, text=True, check=True, cwd=ROOT)
                memory[name] = json.loads(out.stdout.strip().splitlines()[-1])

    print(f"\n{'engine':<10}{'best s':>9}{'itemsets':>10}{'rules':>9}{'peak MB':>10}{'added MB':>10}")
    for name in runs:
        items, rules = counts[name]
        mem = memory.get(name, {})
        print(f"{name:<10}{best[name]:>9.3f}{items if items >= 0 else '-':>10}{rules:>9,}"
              f"{mem.get('peak_rss_mb', '-'):>10}{mem.get('added_mb', '-'):>10}")
    speedup = best["mlxtend"] / best["ours"]
    vs_pyfim = best["ours"] / best["pyfim"]
    print(f"\nours vs mlxtend: {speedup:.1f}x faster (goal >= 10x: {'met' if speedup >= 10 else 'MISSED'})")
    print(f"ours vs pyfim:   {vs_pyfim:.2f}x pyfim's time (goal <= 1.5x: {'met' if vs_pyfim <= 1.5 else 'MISSED'}); "
          "pyfim's rules have single-item consequents only")
    print(f"ours == mlxtend (same rules, every measure bit-identical): {check_identical(series)}")
    print("memory: a child process per engine; peak RSS (VmHWM, reset after loading), added = peak - RSS before")


if __name__ == "__main__":
    main()
