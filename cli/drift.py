"""`graphassoc drift`: what changed between an old and a new period's runs; exit 3 on an alert."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from graphassoc.cli._common import ConfigOption, SetOption, console, friendly_errors, live_progress
from graphassoc.cli._app import app

ALERT_EXIT = 3  # for cron and CI: 0 = no threshold crossed, 3 = at least one (1/2 stay errors)


@app.command("drift")
@friendly_errors
def drift_command(
    old_run: Path = typer.Argument(..., help="Run directory of the earlier period."),
    new_run: Path = typer.Argument(..., help="Run directory of the later period."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Report directory (default NEW_RUN/drift)."),
    config: Optional[str] = ConfigOption,
    overrides: Optional[list[str]] = SetOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing report directory."),
    as_json: bool = typer.Option(False, "--json", help="Print drift.json on stdout."),
) -> None:
    """Rules appeared/vanished, lift and confidence shifts, new products, basket and data-quality shifts,
    the old model's HR@10 on the new period; report.md + report.html; exit code 3 when a drift.* threshold is crossed."""
    from graphassoc.config import load_run_config
    from graphassoc.drift.api import NEEDED, drift
    from graphassoc.errors import UsageError
    from graphassoc.runs import require_run

    require_run(old_run, *NEEDED)
    require_run(new_run, *NEEDED)
    target = out or new_run / "drift"
    if target.exists() and not overwrite:
        raise UsageError(f"'{target}' already exists; choose another --out or pass --overwrite")
    cfg = load_run_config(new_run, config, overrides).drift
    with live_progress("loading both runs") as progress:
        result = drift(old_run, new_run, cfg, progress)
        result.save(target, overwrite=overwrite)
    from graphassoc.drift.report import finding

    console.print(finding(result.to_dict()), soft_wrap=True)
    for alert in result.alerts:
        console.print(f"[bold yellow]alert:[/] {alert}", soft_wrap=True)
    console.print(f"report: {target / 'report.html'}")
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), default=str) + "\n")
    if result.alerts:
        raise typer.Exit(ALERT_EXIT)
