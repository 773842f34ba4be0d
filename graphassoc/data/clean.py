"""Cleaning with a quality report: every dropped line and basket is counted under its reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

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


Keep = Callable[[pl.Expr], pl.Expr]  # alive (the line survived the earlier steps) -> keep this line


def _steps(columns: list[str], cfg: CleanConfig) -> list[tuple[str, Keep]]:
    """The cleaning steps in their fixed order: a reason and a row test applied to the surviving lines."""
    ids_present = (pl.col("basket_id").is_not_null() & pl.col("item_id").is_not_null()
                   & (pl.col("basket_id").str.strip_chars() != "") & (pl.col("item_id").str.strip_chars() != ""))
    steps: list[tuple[str, Keep]] = [("missing basket or item id", lambda _alive: ids_present)]
    if cfg.cancelled_basket_pattern:
        pattern = cfg.cancelled_basket_pattern
        steps.append(("cancellation or credit note", lambda _a: ~pl.col("basket_id").str.contains(pattern)))
    if "quantity" in columns:
        steps.append(("non-positive quantity", lambda _a: pl.col("quantity").fill_null(1) > 0))
    if "price" in columns:
        steps.append(("non-positive price", lambda _a: pl.col("price").fill_null(1) > 0))
    if cfg.item_pattern:
        item_pattern = cfg.item_pattern
        steps.append(("non-product item code", lambda _a: pl.col("item_id").str.contains(item_pattern)))
    if "title" in columns:
        steps.append(("missing text", lambda _a: pl.col("title").str.strip_chars().fill_null("") != ""))
    if cfg.drop_duplicate_lines:
        # First of identical surviving lines (`alive` in the key keeps dropped lines out of the comparison).
        steps.append(("duplicate line", lambda alive: pl.struct(alive, *columns).is_first_distinct()))
    # An item listed twice in one basket counts once: baskets are sets for association analysis.
    steps.append(("item repeated inside a basket",
                  lambda alive: pl.struct(alive, "basket_id", "item_id").is_first_distinct()))
    if cfg.max_basket_size:
        limit = cfg.max_basket_size
        steps.append((f"giant basket (> {limit} items)", lambda alive: alive.sum().over("basket_id") <= limit))
    return steps


def clean(lines: pl.DataFrame | pl.LazyFrame, cfg: CleanConfig) -> tuple[pl.DataFrame, QualityReport]:
    """Drop unusable lines in a fixed order; returns one line per (basket, item) and the report.

    One pass, never a copy per step: each line gets the index of the first step that drops it
    (`_drop`, len(steps) when kept). A step's lines dropped are the lines with its index; its
    baskets dropped are the baskets whose LAST line it drops (the largest index over the basket).
    """
    lf = lines.lazy()
    columns = lf.collect_schema().names()
    steps = _steps(columns, cfg)
    kept_code = len(steps)
    drop = pl.col("_drop")
    lf = lf.with_columns(pl.lit(kept_code, pl.UInt8).alias("_drop"))
    for code, (_reason, keep) in enumerate(steps):
        alive = drop == kept_code
        lf = lf.with_columns(pl.when(alive & ~keep(alive).fill_null(False)).then(pl.lit(code, pl.UInt8))
                             .otherwise(drop).alias("_drop"))
    flagged = lf.collect()
    per_basket = flagged.group_by("basket_id").agg(drop.max().alias("last"), (drop == kept_code).sum().alias("size"))
    lines_by = dict(flagged["_drop"].value_counts().iter_rows())
    baskets_by = dict(per_basket["last"].value_counts().iter_rows())
    report = QualityReport(lines_in=flagged.height, baskets_in=per_basket.height,
                           giant_baskets_over=cfg.max_basket_size or None)
    report.steps = [QualityStep(reason, lines_by.get(code, 0), baskets_by.get(code, 0))
                    for code, (reason, _keep) in enumerate(steps)]
    df = flagged.filter(drop == kept_code).drop("_drop")
    del flagged
    if df.height == 0:
        raise DataError("nothing left after cleaning; check data.preset / column mapping and clean.* patterns "
                        "(see quality steps with --set clean.item_pattern=null)")
    sizes = per_basket.filter(pl.col("last") == kept_code)["size"]
    report.lines_out = df.height
    report.baskets_out = sizes.len()
    report.items_out = df["item_id"].n_unique()
    report.single_item_baskets = int((sizes == 1).sum())
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
