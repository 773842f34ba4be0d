"""Cleaning with a quality report: every dropped line and basket is counted under its reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from graphassoc.data.config import CleanConfig
from graphassoc.errors import DataError


@dataclass
class QualityStep:
    reason: str
    lines_dropped: int
    baskets_dropped: int


@dataclass
class QualityReport:
    lines_in: int = 0
    baskets_in: int = 0
    steps: list[QualityStep] = field(default_factory=list)
    lines_out: int = 0
    baskets_out: int = 0
    items_out: int = 0
    single_item_baskets: int = 0  # kept for popularity; they add no pairs
    giant_baskets_over: int | None = None
    warnings: list[str] = field(default_factory=list)  # accepted, but changes results (graphassoc.data.checks)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row_steps(columns: list[str], cfg: CleanConfig) -> list[tuple[str, pl.Expr]]:
    """The steps that judge a line by itself, in their fixed order: a reason and the lines it keeps."""
    ids_present = (pl.col("basket_id").is_not_null() & pl.col("item_id").is_not_null()
                   & (pl.col("basket_id").str.strip_chars() != "") & (pl.col("item_id").str.strip_chars() != ""))
    steps = [("missing basket or item id", ids_present)]
    if cfg.cancelled_basket_pattern:
        steps.append(("cancellation or credit note", ~pl.col("basket_id").str.contains(cfg.cancelled_basket_pattern)))
    if "quantity" in columns:
        steps.append(("non-positive quantity", pl.col("quantity").fill_null(1) > 0))
    if "price" in columns:
        steps.append(("non-positive price", pl.col("price").fill_null(1) > 0))
    if cfg.item_pattern:
        steps.append(("non-product item code", pl.col("item_id").str.contains(cfg.item_pattern)))
    if "title" in columns:
        steps.append(("missing text", pl.col("title").str.strip_chars().fill_null("") != ""))
    return steps


def _drop_repeats(flagged: pl.DataFrame, columns: list[str], codes: tuple[int | None, int], kept: int) -> pl.DataFrame:
    """Mark the surviving lines that repeat an earlier one: identical lines (code `codes[0]`, None: keep
    them), then an item listed again in its basket (`codes[1]`; baskets are sets for association
    analysis). Both only concern lines whose (basket, item) pair occurs more than once, usually a
    few percent: they are judged on that subset, in their original order, instead of hashing
    every column of every line."""
    alive = pl.col("_drop") == kept
    rows = flagged.select(alive & pl.struct(alive, "basket_id", "item_id").is_duplicated()).to_series().arg_true()
    if rows.len() == 0:
        return flagged
    sub = flagged[rows]
    duplicate, repeated = codes
    if duplicate is not None:
        sub = sub.with_columns(pl.when(pl.struct(*columns).is_first_distinct()).then(pl.col("_drop"))
                               .otherwise(pl.lit(duplicate, pl.UInt8)).alias("_drop"))
    sub = sub.with_columns(pl.when(~alive | pl.struct(alive, "basket_id", "item_id").is_first_distinct())
                           .then(pl.col("_drop")).otherwise(pl.lit(repeated, pl.UInt8)).alias("_drop"))
    return flagged.with_columns(flagged["_drop"].scatter(rows, sub["_drop"]))


def clean(lines: pl.DataFrame | pl.LazyFrame, cfg: CleanConfig) -> tuple[pl.DataFrame, QualityReport]:
    """Drop unusable lines in a fixed order; returns one line per (basket, item) and the report.

    One pass, never a copy per step: each line gets the index of the first step that drops it
    (`_drop`, len(reasons) when kept). A step's lines dropped are the lines with its index; its
    baskets dropped are the baskets whose LAST line it drops (the largest index over the basket).
    """
    lf = lines.lazy()
    columns = lf.collect_schema().names()
    row_steps = _row_steps(columns, cfg)
    reasons = [reason for reason, _ in row_steps]
    duplicate = None
    if cfg.drop_duplicate_lines:
        duplicate = len(reasons)
        reasons.append("duplicate line")
    reasons.append("item repeated inside a basket")
    if cfg.max_basket_size:
        reasons.append(f"giant basket (> {cfg.max_basket_size} items)")
    kept_code = len(reasons)
    first_failed: Any = pl
    for code, (_reason, keep) in enumerate(row_steps):  # when(fails 0).then(0).when(fails 1).then(1)...
        first_failed = first_failed.when(~keep.fill_null(False)).then(pl.lit(code, pl.UInt8))
    drop = pl.col("_drop")
    flagged = lf.with_columns(first_failed.otherwise(pl.lit(kept_code, pl.UInt8)).alias("_drop")).collect()
    flagged = _drop_repeats(flagged, columns, (duplicate, reasons.index("item repeated inside a basket")), kept_code)
    if cfg.max_basket_size:
        alive = drop == kept_code
        flagged = flagged.with_columns(pl.when(alive & (alive.sum().over("basket_id") > cfg.max_basket_size))
                                       .then(pl.lit(kept_code - 1, pl.UInt8)).otherwise(drop).alias("_drop"))
    per_basket = flagged.group_by("basket_id").agg(drop.max().alias("last"), (drop == kept_code).sum().alias("size"))
    lines_by = dict(flagged["_drop"].value_counts().iter_rows())
    baskets_by = dict(per_basket["last"].value_counts().iter_rows())
    report = QualityReport(lines_in=flagged.height, baskets_in=per_basket.height,
                           giant_baskets_over=cfg.max_basket_size or None)
    report.steps = [QualityStep(reason, lines_by.get(code, 0), baskets_by.get(code, 0))
                    for code, reason in enumerate(reasons)]
    df = flagged.filter(drop == kept_code).drop("_drop")
    del flagged
    if df.height == 0:
        raise DataError(empty_after_cleaning(report))
    sizes = per_basket.filter(pl.col("last") == kept_code)["size"]
    report.lines_out = df.height
    report.baskets_out = sizes.len()
    report.items_out = df["item_id"].n_unique()
    report.single_item_baskets = int((sizes == 1).sum())
    return df, report


# What a user changes when a step drops every line: the setting (or the input column) behind it.
_STEP_FIX = {
    "missing basket or item id": "map the id columns (--set data.columns.basket_id=... / item_id=..., or data.preset)",
    "cancellation or credit note": "--set clean.cancelled_basket_pattern=null (basket ids match the cancellation pattern)",
    "non-positive quantity": "check the quantity column (map another one with --set data.columns.quantity=...)",
    "non-positive price": "check the price column (map another one with --set data.columns.price=...)",
    "non-product item code": "--set clean.item_pattern=null (or a pattern your item ids match)",
    "missing text": "map the title column (--set data.columns.title=...) or give a --catalog",
    "duplicate line": "--set clean.drop_duplicate_lines=false",
    "item repeated inside a basket": "check the basket_id column: every line looks like the same basket",
}


def empty_after_cleaning(report: QualityReport) -> str:
    """One line naming the step that dropped the most lines and the setting that changes it."""
    worst = max(report.steps, key=lambda step: step.lines_dropped, default=None)
    if worst is None or worst.lines_dropped == 0:
        return "nothing left after cleaning; the input has no lines"
    fix = _STEP_FIX.get(worst.reason, "--set clean.max_basket_size=null" if worst.reason.startswith("giant") else
                        "see the cleaning steps in graphassoc/data/clean.py")
    return (f"nothing left after cleaning: '{worst.reason}' dropped {worst.lines_dropped:,} of "
            f"{report.lines_in:,} lines; {fix}")


def quality_table(report: QualityReport):  # -> rich.table.Table
    from rich.table import Table

    table = Table(title="Cleaning", title_justify="left")
    table.add_column("reason")
    table.add_column("lines dropped", justify="right")
    table.add_column("baskets dropped", justify="right")
    for step in report.steps:
        table.add_row(step.reason, f"{step.lines_dropped:,}", f"{step.baskets_dropped:,}")
    table.add_row("[bold]kept[/]", f"[bold]{report.lines_out:,}[/] of {report.lines_in:,}",
                  f"[bold]{report.baskets_out:,}[/] of {report.baskets_in:,}")
    return table
