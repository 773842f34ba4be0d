"""`graphassoc recommend`: recommendations with their evidence for people, JSONL batches for programs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graphassoc.cli._common import console, existing_file, friendly_errors
from graphassoc.cli._app import app
from graphassoc.errors import UsageError


def result_table(result) -> Table:  # result: graphassoc.recommend.service.RecommendResult
    # Ids, titles and the query are the shop's data: escaped, so "[red]" or "[/x]" shows as written.
    table = Table(title=escape(f"{result.method} recommendations for {json.dumps(result.query, ensure_ascii=False)}"),
                  title_justify="left")
    for name, justify in [("#", "right"), ("item", "left"), ("title", "left"), ("score", "right"),
                          ("best rule", "left"), ("conf", "right"), ("lift", "right"), ("baskets", "right"),
                          ("co-bought", "right"), ("text sim", "right"), ("ranker", "left")]:
        table.add_column(name, justify=justify, no_wrap=name != "best rule")  # type: ignore[arg-type]
    for rec in result.items:
        ev = rec.evidence
        rule = ev.rule if ev else None
        table.add_row(
            str(rec.rank), escape(rec.item_id), escape(rec.title), f"{rec.score:.4g}",
            escape(f"{' + '.join(rule.antecedents)} -> {' + '.join(rule.consequents)}") if rule else "-",
            f"{rule.confidence:.3f}" if rule else "-",
            f"{rule.lift:.2f}" if rule else "-",
            str(rule.count) if rule else "-",
            str(ev.copurchase_count) if ev else "-",
            f"{ev.text_similarity:.3f}" if ev and ev.text_similarity is not None else "-",
            escape(ev.ranker) if ev else "-",
        )
    return table


def _check_options(run_dir: Path, basket: Optional[list[str]], basket_ids: list[str], more_ids: Optional[list[str]],
                   item: Optional[str], text: Optional[str], batch: Optional[Path], out: Optional[Path],
                   user: Optional[str], overwrite: bool) -> None:
    """Every mistake in the options, each as one line, before the (slow) load of the run."""
    from graphassoc.runs import require_run

    if more_ids and basket is None:
        raise UsageError(f"unexpected argument(s) {' '.join(more_ids)}; item ids go after --basket (or use --item ID)")
    modes = [name for name, given in [("--item", item is not None), ("--basket", basket is not None),
                                      ("--text", text is not None), ("--batch", batch is not None)] if given]
    if user is not None and (batch is not None or text is not None):
        raise UsageError('--user goes with --basket ID ... or --item ID (or alone); in --batch, give "user_id" per line')
    if len(modes) != 1 and not (user is not None and not modes):
        raise UsageError("give exactly one of --item ID, --basket ID ..., --text \"...\" or --batch FILE --out FILE"
                         + (f" (got {', '.join(modes)})" if modes else ""))
    if batch is not None and out is None:
        raise UsageError("--batch needs --out FILE for the recommendations (JSONL)")
    if out is not None and batch is None:
        raise UsageError("--out is for --batch; people's queries print to the terminal (or stdout with --json)")
    require_run(run_dir, "items.parquet", "baskets.parquet")
    existing_file(batch, "batch")
    if out is not None and not out.parent.is_dir():  # before the (slow) load, not after
        raise UsageError(f"the folder of --out, '{out.parent}', " + ("is a file; give a path in a folder" if out.parent.exists()
                         else "does not exist; create it first"))
    if out is not None and out.is_dir():
        raise UsageError(f"--out '{out}' is a directory; give a file for the recommendations, e.g. --out {out / 'recs.jsonl'}")
    if out is not None and out.exists() and not overwrite:  # before the (slow) load, not after
        raise UsageError(f"'{out}' already exists; choose another --out or pass --overwrite")
    if basket is not None and not basket_ids:
        raise UsageError("empty basket: give at least one item id after --basket, e.g. --basket 85123A 22423")


def _run_batch(rec, batch: Path, out: Path, k: int, overwrite: bool, as_json: bool) -> None:  # rec: Recommender
    from graphassoc.recommend.service import write_batch

    def report(line: int, message: str) -> None:
        console.print(f"[yellow]line {line}:[/] {escape(message)}", soft_wrap=True)

    summary = write_batch(rec, batch, out, k, overwrite=overwrite, on_error=report)
    console.print(f"[green]done[/] {summary.answered:,} of {summary.queries:,} queries answered by {rec.method} "
                  f"in {summary.seconds:.1f}s ({summary.per_second:,.0f}/s), {len(summary.errors)} with errors -> {escape(str(out))}")
    if as_json:
        sys.stdout.write(json.dumps({"out": str(out), "method": rec.method, "queries": summary.queries,
                                     "answered": summary.answered, "errors": len(summary.errors),
                                     "seconds": round(summary.seconds, 3)}) + "\n")


@app.command("recommend", context_settings={"allow_interspersed_args": True})
@friendly_errors
def recommend_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph`."),
    more_ids: Optional[list[str]] = typer.Argument(None, metavar="[ID ...]", help="More basket item ids (after --basket)."),
    item: Optional[str] = typer.Option(None, "--item", help="Items bought with this item id."),
    basket: Optional[list[str]] = typer.Option(None, "--basket", help="Complete a basket: --basket ID ID ... (or repeat --basket)."),
    text: Optional[str] = typer.Option(None, "--text", help="Free text: a product description or a search query."),
    batch: Optional[Path] = typer.Option(None, "--batch", help='JSONL file, one {"id": ..., "basket": \\[item_id, ...]} per line.'),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output JSONL of --batch (written atomically)."),
    k: int = typer.Option(10, "-k", "--k", min=1, help="How many items to recommend per query."),
    user: Optional[str] = typer.Option(None, "--user", "-u", help="Personal: this customer's history plus the basket (--basket optional)."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Ranker (`graphassoc ls rankers`); default: hybrid with a model, else ease."),
    as_json: bool = typer.Option(False, "--json", help="Machine output (JSON) on stdout."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file."),
) -> None:
    """Recommend items for an item, a basket, a free text, or a JSONL batch of baskets, with evidence."""
    from graphassoc.recommend.service import Recommender

    basket_ids = [i for value in (basket or []) + (more_ids or []) for i in value.replace(",", " ").split()]
    _check_options(run_dir, basket, basket_ids, more_ids, item, text, batch, out, user, overwrite)

    with console.status(f"loading {escape(str(run_dir))} and fitting the ranker"):
        rec = Recommender.load(run_dir, method)

    if batch is not None:
        assert out is not None
        _run_batch(rec, batch, out, k, overwrite, as_json)
        return

    if user is not None:
        result = rec.recommend_user(user, basket_ids or ([item] if item is not None else []), k)
    elif item is not None:
        result = rec.recommend_item(item, k)
    elif text is not None:
        result = rec.recommend_text(text, k)
    else:
        result = rec.recommend_basket(basket_ids, k)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        # Piped output has no terminal width: use a wide one rather than rich's 80 columns.
        Console(highlight=False, width=None if sys.stdout.isatty() else 180).print(result_table(result))
