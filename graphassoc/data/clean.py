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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _step(df: pl.DataFrame, keep: pl.Expr, reason: str, report: QualityReport) -> pl.DataFrame:
    kept = df.filter(keep)
    report.steps.append(QualityStep(
        reason=reason,
        lines_dropped=df.height - kept.height,
        baskets_dropped=df["basket_id"].n_unique() - (kept["basket_id"].n_unique() if kept.height else 0),
    ))
    return kept


def clean(lines: pl.DataFrame, cfg: CleanConfig) -> tuple[pl.DataFrame, QualityReport]:
    """Drop unusable lines in a fixed order; returns one line per (basket, item) and the report."""
    report = QualityReport(lines_in=lines.height, baskets_in=lines["basket_id"].n_unique())
    df = _step(lines, pl.col("basket_id").is_not_null() & pl.col("item_id").is_not_null(),
               "missing basket or item id", report)
    if cfg.cancelled_basket_pattern:
        df = _step(df, ~pl.col("basket_id").str.contains(cfg.cancelled_basket_pattern),
                   "cancellation or credit note", report)
    if "quantity" in df.columns:
        df = _step(df, pl.col("quantity").fill_null(1) > 0, "non-positive quantity", report)
    if "price" in df.columns:
        df = _step(df, pl.col("price").fill_null(1) > 0, "non-positive price", report)
    if cfg.item_pattern:
        df = _step(df, pl.col("item_id").str.contains(cfg.item_pattern), "non-product item code", report)
    if "title" in df.columns:
        df = _step(df, pl.col("title").str.strip_chars().fill_null("") != "", "missing text", report)
    if cfg.drop_duplicate_lines:
        df = _step(df, pl.struct(pl.all()).is_first_distinct(), "duplicate line", report)
    # An item listed twice in one basket counts once: baskets are sets for association analysis.
    df = _step(df, pl.struct("basket_id", "item_id").is_first_distinct(), "item repeated inside a basket", report)
    sizes = df.group_by("basket_id").len()
    if cfg.max_basket_size:
        giants = sizes.filter(pl.col("len") > cfg.max_basket_size)["basket_id"]
        report.giant_baskets_over = cfg.max_basket_size
        df = _step(df, ~pl.col("basket_id").is_in(giants.implode()), f"giant basket (> {cfg.max_basket_size} items)", report)
    if df.height == 0:
        raise DataError("nothing left after cleaning; check data.preset / column mapping and clean.* patterns "
                        "(see quality steps with --set clean.item_pattern=null)")
    report.lines_out = df.height
    report.baskets_out = df["basket_id"].n_unique()
    report.items_out = df["item_id"].n_unique()
    report.single_item_baskets = int((df.group_by("basket_id").len()["len"] == 1).sum())
    return df, report


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
