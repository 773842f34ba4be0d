"""`graphassoc build-graph`: transactions in, run directory with rules and the co-purchase graph out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from graphassoc.cli._common import ConfigOption, SetOption, console, existing_file, friendly_errors, live_progress
from graphassoc.cli._app import app


def print_summary(result, out: Path) -> None:  # result: graphassoc.pipeline.BuildResult
    from graphassoc.data.clean import quality_table

    console.print(quality_table(result.quality))
    s = result.summary
    table = Table(title=f"Run directory {escape(str(out))}", title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    for split, n in s["baskets"].items():
        table.add_row(f"{split} baskets", f"{n:,}")
    table.add_row("items (catalogue)", f"{s['items']:,}")
    table.add_row("frequent itemsets", f"{s['itemsets']:,}")
    table.add_row("rules", f"{s['rules']:,}")
    g = s["graph"]
    table.add_row("graph nodes / edges", f"{g['nodes']:,} / {g['edges']:,}")
    table.add_row("components / isolated nodes", f"{g['components']:,} / {g['isolated_nodes']:,}")
    table.add_row("degree median / p90 / max", " / ".join(f"{g['degree_quantiles'][q]:g}" for q in ("0.5", "0.9", "1.0")))
    console.print(table)


@app.command("build-graph")
@friendly_errors
def build_graph_command(
    transactions: Path = typer.Option(..., "--transactions", "-t", help="Transactions file (CSV, Parquet or JSONL)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    catalog: Optional[Path] = typer.Option(None, "--catalog", help="Optional catalog file: item_id, title, ..."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run directory (only once the new one is complete)."),
) -> None:
    """Clean transactions, split by time, mine rules and build the co-purchase graph."""
    from graphassoc.config import load_config
    from graphassoc.pipeline import build_graph

    cfg = load_config(config, set_)
    if not cfg.spark.data_jobs:  # Spark reads URIs (hdfs://, s3a://) and checks them itself
        existing_file(transactions, "transactions")
        existing_file(catalog, "catalog")
    start = time.perf_counter()
    with live_progress() as progress:
        result = build_graph(cfg, transactions, catalog, out, overwrite=overwrite, progress=progress)
    print_summary(result, out)
    console.print(f"[green]done[/] in {time.perf_counter() - start:.1f}s -> {escape(str(out))}")
