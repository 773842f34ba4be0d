"""`graphassoc compare RUN_DIR`: every ranker on the leak-free test queries; report in RUN/compare/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from graphassoc.cli._common import ConfigOption, SetOption, console, friendly_errors, live_progress
from graphassoc.cli._app import app


def headline_table(result) -> Table:  # result: graphassoc.evaluate.compare.CompareResult
    table = Table(title=f"{result.n_queries:,} test queries ({result.strata_sizes.get('never_seen', 0):,} hide a "
                        f"never-seen item); best baseline: {result.best_baseline}", title_justify="left")
    for col in ("ranker", "HR@10 [95% CI]", "NDCG@10", "MRR", "HR@10 never-seen", "coverage@10"):
        table.add_column(col, justify="left" if col == "ranker" else "right")
    for row in result.headline():
        ci, ns = row["intervals"]["hr@10"], row["hr@10 never-seen"]
        table.add_row(escape(row["ranker"]), f"{ci['mean']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]", f"{row['ndcg@10']:.3f}",
                      f"{row['mrr']:.3f}", "-" if ns is None or ns != ns else f"{ns:.3f}", f"{row['coverage@10']:.3f}")
    return table


@app.command("compare")
@friendly_errors
def compare_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph` (and `train`)."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing RUN/compare/ (only once the new one is complete)."),
) -> None:
    """Compare rules, baselines and the model on the test split; write RUN/compare/report.html."""
    from graphassoc.config import load_run_config
    from graphassoc.evaluate.compare import compare

    cfg = load_run_config(run_dir, config, set_)
    start = time.perf_counter()
    with live_progress() as progress:
        result = compare(run_dir, cfg, progress=progress, overwrite=overwrite)
    for name, why in result.skipped.items():
        console.print(f"[yellow]skipped[/] {escape(name)}: {escape(why)}", soft_wrap=True)
    console.print(headline_table(result))
    console.print(f"[green]done[/] in {time.perf_counter() - start:.1f}s -> {escape(str(run_dir / 'compare' / 'report.html'))}")
