"""`graphassoc train` and `graphassoc tune`: parse, then call graphassoc.model.train / tune."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table

from graphassoc.cli._common import ConfigOption, SetOption, console, existing_file, friendly_errors
from graphassoc.cli._app import app


def _config(run_dir: Path, config: Optional[str], set_: Optional[list[str]], mode: Optional[str]):
    from graphassoc.config import load_run_config

    overrides = list(set_ or []) + ([f"train.mode={mode}"] if mode else [])
    return load_run_config(run_dir, config, overrides)


@app.command("train")
@friendly_errors
def train_command(
    run_dir: Path = typer.Argument(..., help="Run directory made by `graphassoc build-graph`."),
    mode: Optional[str] = typer.Option(None, "--mode", "-m", help="frozen | two-stage | joint (train.mode)."),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace RUN/model/<mode> once the new one is complete."),
) -> None:
    """Train the hybrid text+GNN model; rerun the same command after an interruption to resume."""
    cfg = _config(run_dir, config, set_, mode)  # bad input fails here, before torch is imported
    from graphassoc.model.distributed import process_group
    from graphassoc.model.training import train

    # Under torchrun: one process per rank (model/distributed.py); rank 0 alone reports.
    with process_group(cfg.train.device) as dist, \
            Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                     TimeElapsedColumn(), console=console, transient=True, disable=not dist.is_main) as bar:
        task = bar.add_task("starting", total=None, info="")

        def on_step(ev: dict[str, Any]) -> None:
            if ev["phase"] == "contrastive":
                bar.update(task, description="fine-tuning encoder", completed=ev["step"], total=ev["steps"],
                           info=f"loss {ev['loss']:.3f}")
            elif ev["phase"] == "train":
                best = f" | best val HR@10 {ev['best_hr10']:.4f}" if ev.get("best_hr10") is not None else ""
                bar.update(task, description=f"epoch {ev['epoch']}/{ev['epochs']}", completed=ev["step"],
                           total=ev["steps"], info=f"loss {ev['loss']:.3f}{best}")

        log = (lambda msg: console.log(escape(msg))) if dist.is_main else (lambda _m: None)
        result = train(run_dir, cfg, progress=log, overwrite=overwrite, on_step=on_step if dist.is_main else None)
    if not dist.is_main:
        return
    table = Table(title=f"model {result.name} ({result.mode}, {result.device})", title_justify="left")
    table.add_column("epoch", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("valid HR@10", justify="right")
    table.add_column("never-seen", justify="right")
    table.add_column("valid NDCG@10", justify="right")
    table.add_column("new-item offset", justify="right")
    table.add_column("GNN tower", justify="right")  # set on validation with the offset (model/validation.py)
    for h in result.history:
        mark = " *" if h["epoch"] == result.best_epoch else ""
        ns = h.get("valid_hr@10_never_seen")
        table.add_row(f"{h['epoch']}{mark}", f"{h['loss']:.4f}", f"{h['valid_hr@10']:.4f}",
                      "-" if ns is None else f"{ns:.4f}", f"{h['valid_ndcg@10']:.4f}", f"{h['valid_new_item_offset']:+.2f}",
                      "on" if h.get("valid_tower_on", True) else "off")
    console.print(table)
    console.print(f"[green]done[/] in {result.seconds:.1f}s (peak RSS {result.peak_rss_mb:.0f} MB) -> {escape(str(result.out_dir))}")


@app.command("tune")
@friendly_errors
def tune_command(
    run_dir: Path = typer.Argument(..., help="Run directory made by `graphassoc build-graph`."),
    space: Path = typer.Option(..., "--space", help="YAML: dotted key -> list of values, e.g. 'train.lr: [0.001, 0.003]'."),
    trials: int = typer.Option(8, "--trials", "-n", min=1, help="Number of trials."),
    method: str = typer.Option("random", "--method", help="random | grid"),
    config: Optional[str] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace RUN/tune once the new search is complete."),
) -> None:
    """Search train/text settings on validation HR@10; writes RUN/tune/results.csv and best.yaml."""
    existing_file(space, "search space")
    cfg = _config(run_dir, config, set_, None)  # bad input fails here, before torch is imported
    from graphassoc.model.tuning import read_space, tune

    result = tune(run_dir, cfg, read_space(space), trials, method, progress=lambda msg: console.log(escape(msg)), overwrite=overwrite)
    table = Table(title="trials (validation only)", title_justify="left")
    for col in result.table.columns:
        table.add_column(escape(col))
    for row in result.table.iter_rows():
        table.add_row(*[f"{v:.4f}" if isinstance(v, float) else escape(str(v)) for v in row])
    console.print(table)
    console.print(f"[green]best[/] {escape(str(result.best))} -> {escape(str(run_dir / 'tune' / 'best.yaml'))} (use it with --config)")
