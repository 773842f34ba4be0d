"""`graphassoc demo`: the whole pipeline on the bundled fixture, no arguments needed."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from graphassoc.cli._common import console, friendly_errors
from graphassoc.cli._app import app


@app.command("demo")
@friendly_errors
def demo_command(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory to (re)create."),
) -> None:
    """Run every stage on data/fixtures/online_retail_sample.parquet."""
    from graphassoc.cli.compare import headline_table
    from graphassoc.demo import run_demo

    result = run_demo(out, log=lambda msg: console.log(escape(msg)))
    console.print(headline_table(result))
    console.print(f"[green]comparison report:[/] {escape(str(out / 'compare' / 'report.html'))}")
