"""`graphassoc export RUN_DIR --format FORMAT`: the product graph for Neo4j, Gephi, RDF stores, PyKEEN."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from graphassoc.cli._common import ConfigOption, SetOption, console, friendly_errors
from graphassoc.cli._app import app


@app.command("export")
@friendly_errors
def export_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph`."),
    fmt: str = typer.Option(..., "--format", "-f", help="turtle, ntriples, graphml, gexf, neo4j, pykeen, parquet or all "
                                                        "(`graphassoc ls exporters`)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder to write (default RUN_DIR/exports/FORMAT; "
                                                                 "for all, one folder per format under it)."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Keep each product's K strongest links only."),
    min_lift: Optional[float] = typer.Option(None, "--min-lift", help="Drop links and rules with a lower lift."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing export (once the new one is complete)."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
) -> None:
    """Export products, rules and scored links as RDF, GraphML, GEXF, Neo4j CSVs, PyKEEN TSV or Parquet."""
    from graphassoc.config import RUN_CONFIG_FIX, load_config, read_yaml, validate_section
    from graphassoc.export.config import ExportConfig
    from graphassoc.export.api import export
    from graphassoc.runs import require_run

    run_config = require_run(run_dir) / "config.yaml"
    base = read_yaml(run_config, "run config", RUN_CONFIG_FIX) if run_config.is_file() else None
    cfg = load_config(config, set_, base=base).export  # the run's export section, then --config / --set
    options = {k: v for k, v in {"top_k": top_k, "min_lift": min_lift}.items() if v is not None}
    if options:
        cfg = validate_section(ExportConfig, **{**cfg.model_dump(), **options})  # type: ignore[assignment]
    with console.status(f"exporting {escape(fmt)}"):
        result = export(run_dir, fmt, out=out, cfg=cfg, overwrite=overwrite)
    table = Table(title=f"Export of {escape(str(run_dir))}", title_justify="left")
    for col in ("format", "files (rows; triples for RDF)", "seconds"):
        table.add_column(col, justify="right" if col == "seconds" else "left", overflow="fold")
    for name in result.folders:
        files = ", ".join(f"{f} {n:,}" for f, n in result.files[name].items())
        table.add_row(name, files, f"{result.timings[name]['seconds']:.1f}")
    console.print(table)
    console.print("exported " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.counts.items()))
    first = next(iter(result.folders.values()))
    console.print(f"[green]done[/] -> {escape(str(first if len(result.folders) == 1 else first.parent))}")  # all: one folder per format
