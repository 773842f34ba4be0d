"""`graphassoc profile | audience | groups | bundles`: the customer-side questions of a shop's teams."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from graphassoc.cli._common import ConfigOption, SetOption, console, friendly_errors
from graphassoc.cli._app import app


def _out() -> Console:
    return Console(highlight=False, width=None if sys.stdout.isatty() else 180)


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in rows[0] if rows else []:
        table.add_column(col, justify="right" if isinstance(rows[0][col], (int, float)) else "left")
    for row in rows:
        table.add_row(*[", ".join(map(str, v)) if isinstance(v, list) else (f"{v:.4g}" if isinstance(v, float) else str(v))
                        for v in row.values()])
    return table


def _users_cfg(run_dir: Path, config: Optional[str], set_: Optional[list[str]]):
    from graphassoc.config import load_run_config

    return load_run_config(run_dir, config, set_)


@app.command("profile")
@friendly_errors
def profile_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph`."),
    user: str = typer.Argument(..., help="User id as in the transactions (UCI CustomerID 17850.0 -> 17850)."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    as_json: bool = typer.Option(False, "--json", help="Machine output (JSON) on stdout."),
) -> None:
    """One customer's profile (train window); builds RUN/users.parquet, keyed by salted hashes, once."""
    from graphassoc.users.profiles import profile_of

    cfg = _users_cfg(run_dir, config, set_)
    profile = profile_of(run_dir, user, cfg.users)
    if as_json:
        sys.stdout.write(json.dumps(profile, default=str) + "\n")
        return
    table = Table(title=f"profile of user {user} (key {profile['user_key']})", title_justify="left", show_header=False)
    for key, value in profile.items():
        table.add_row(key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
    _out().print(table)


@app.command("audience")
@friendly_errors
def audience_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph`."),
    item: str = typer.Argument(..., help="Item id to find buyers for."),
    n: int = typer.Option(20, "-k", "--k", min=1, help="How many customers."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    as_json: bool = typer.Option(False, "--json", help="Machine output (JSON lines) on stdout."),
) -> None:
    """The N customers most likely to buy ITEM next (salted keys; the raw ids stay in the run)."""
    from graphassoc.rankers.context import RankContext
    from graphassoc.recommend.service import _TunedValues
    from graphassoc.runs import Run
    from graphassoc.users.audience import audience

    cfg = _users_cfg(run_dir, config, set_)
    run = Run(run_dir, "baskets.parquet", "items.parquet")
    ctx = RankContext(run.path, run.items(), run.baskets(), "test", cfg.seed or 0, cfg.evaluate, cfg)
    tuned = _TunedValues(run.path, ctx)  # EASE's lambda as `recommend` tuned and stored it: no retuning
    tuned.restore()
    with console.status("scoring every customer with history"):
        table = audience(ctx, item, n)
    tuned.store()
    if as_json:
        sys.stdout.write("".join(json.dumps(r) + "\n" for r in table.to_dicts()))
        return
    title = ctx.items["title"][ctx.item_index[item]]
    _out().print(_table(f"audience for {item} ({title})", table.to_dicts()))


@app.command("groups")
@friendly_errors
def groups_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph`."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    top: int = typer.Option(10, "--top", min=1, help="Groups to print."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing RUN/groups/."),
) -> None:
    """Co-stocking groups: Louvain communities of the co-purchase graph -> RUN/groups/ (parquet + plot)."""
    from graphassoc.errors import UsageError
    from graphassoc.users.groups import write_groups

    if (run_dir / "groups").exists() and not overwrite:
        raise UsageError(f"'{run_dir / 'groups'}' already exists; pass --overwrite to recompute it")
    cfg = _users_cfg(run_dir, config, set_)
    with console.status("finding communities (networkx Louvain)"):
        result = write_groups(run_dir, cfg.users, overwrite=overwrite)
    _out().print(_table(f"{result.settings['groups']} groups over {result.settings['items_in_groups']:,} items "
                        f"(resolution {result.settings['resolution']})", result.groups.head(top).to_dicts()))
    console.print(f"[green]done[/] -> {run_dir / 'groups'} (groups.parquet, members.parquet, groups.png)")


@app.command("bundles")
@friendly_errors
def bundles_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph`."),
    k: int = typer.Option(10, "-k", "--k", min=1, help="How many bundles."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    no_completion: bool = typer.Option(False, "--no-completion", help="Skip the model's new-product completion."),
    as_json: bool = typer.Option(False, "--json", help="Machine output (JSON lines) on stdout."),
) -> None:
    """2-4 item bundles ranked by lift and support (minimum count), with the model's new-product completion."""
    from graphassoc.users.bundles import bundles

    cfg = _users_cfg(run_dir, config, set_)
    with console.status("ranking bundles"):
        table, notes = bundles(run_dir, k, cfg.users, complete=not no_completion)
    if as_json:
        sys.stdout.write("".join(json.dumps(r) + "\n" for r in table.to_dicts()))
        return
    _out().print(_table(f"top {table.height} bundles (>= {notes['min_count']} train baskets; "
                        f"completion: {notes['completion']})", table.drop("items").to_dicts()))
