"""`graphassoc ls KIND`: what each registry holds (engines, encoders, gnns, rankers, exporters)."""

from __future__ import annotations

import typer
from rich.table import Table

from graphassoc.cli._common import console, friendly_errors
from graphassoc.cli._app import app
from graphassoc.registry import REGISTRIES, load_registry


@app.command("ls")
@friendly_errors
def ls_command(kind: str = typer.Argument(..., help=f"One of: {', '.join(REGISTRIES)}")) -> None:
    """List the swappable parts of one kind."""
    registry = load_registry(kind)
    table = Table(title=kind, title_justify="left")
    table.add_column("name")
    table.add_column("description")
    for name, desc in registry.describe():
        table.add_row(name, desc)
    console.print(table)
