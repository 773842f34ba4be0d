"""Bundles: 2-4 items bought together far more often than chance, from the run's frequent itemsets.

lift(S) = support(S) / prod(support({i})) over the items of S: how many times more often the
bundle occurs than if its items were bought independently. Lift multiplies with every added item
(a 4-item set of mediocre pairs out-lifts any strong pair), so bundles of different sizes are
compared by lift per added item, lift ** (1 / (|S| - 1)) (the pair's own lift for a pair). Bundles need `bundles_min_count` train
baskets (a lift from 3 baskets is noise), are ranked by lift then support, and a bundle sharing
half its items with a better one is skipped so the list is not ten colour variants of one set.
Each bundle gets the model's completion among NEW products (no train sales, so no itemset can
hold them): the best-scored new item for the bundle as a basket, with the ranker that chose it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graphassoc.errors import GraphassocError
from graphassoc.runs import Run
from graphassoc.users.config import UsersConfig


def candidate_bundles(itemsets: pl.DataFrame, n_baskets: int, cfg: UsersConfig) -> pl.DataFrame:
    """Every frequent itemset of 2..max_size items with its lift and expected count."""
    single = itemsets.filter(pl.col("itemsets").list.len() == 1).select(
        pl.col("itemsets").list.first().alias("item"), pl.col("support").alias("s1"))
    multi = itemsets.filter(pl.col("itemsets").list.len().is_between(2, cfg.bundles_max_size),
                            pl.col("count") >= cfg.bundles_min_count).with_row_index("bundle")
    expected = (multi.select("bundle", pl.col("itemsets").alias("item")).explode("item").join(single, on="item", how="left")
                .group_by("bundle").agg(pl.col("s1").product().alias("independent")))
    return (multi.join(expected, on="bundle").with_columns(
        (pl.col("support") / pl.col("independent")).alias("lift"),
        (pl.col("independent") * n_baskets).alias("expected_count"))
        .with_columns((pl.col("lift") ** (1.0 / (pl.col("itemsets").list.len() - 1))).alias("lift_per_item"))
        .sort(["lift_per_item", "support"], descending=True))


def pick_diverse(bundles: pl.DataFrame, k: int) -> pl.DataFrame:
    chosen: list[int] = []
    kept: list[set[str]] = []
    for i, items in enumerate(bundles["itemsets"].to_list()):
        s = set(items)
        if all(len(s & other) * 2 < min(len(s), len(other)) for other in kept):
            chosen.append(i)
            kept.append(s)
            if len(chosen) == k:
                break
    return bundles[chosen]


def _completion(run: Run, bundles: pl.DataFrame) -> tuple[list[str | None], list[float | None], str]:
    """The best new product for each bundle, from the model (or the text encoder without one)."""
    from graphassoc.rankers.context import RankContext
    from graphassoc.rankers.model import pick_model_ranker

    items = run.items()
    new = np.flatnonzero(items["popularity"].to_numpy() == 0)
    if len(new) == 0:
        return [None] * bundles.height, [None] * bundles.height, "no new products in the catalogue"
    cfg = run.config
    ctx = RankContext(run.path, items, run.baskets(), "test", cfg.seed or 0, cfg.evaluate, cfg)
    try:
        ranker = pick_model_ranker(ctx).fit(ctx)
        queries = [np.asarray(sorted(ctx.item_index[i] for i in b), dtype=np.int64) for b in bundles["itemsets"].to_list()]
        scores = ranker.score(queries)[:, new] if queries else np.zeros((0, len(new)))
    except GraphassocError as err:
        return [None] * bundles.height, [None] * bundles.height, f"no completion ({err})"
    best = scores.argmax(axis=1) if len(queries) else np.zeros(0, dtype=np.int64)
    ids = items["item_id"].to_list()
    return [ids[new[b]] for b in best], [round(float(scores[r, b]), 4) for r, b in enumerate(best)], ranker.name


def bundles(run_dir: Path, k: int, cfg: UsersConfig | None = None, complete: bool = True) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The k best bundles with evidence (count, support, lift, expected count) and their new-product completion."""
    cfg = cfg or UsersConfig()
    run = Run(run_dir, "itemsets.parquet", "items.parquet", "baskets.parquet")
    n_train = run.baskets().filter(pl.col("split") == "train").height
    top = pick_diverse(candidate_bundles(run.itemsets(), n_train, cfg), k)
    titles = dict(zip(*run.items().select("item_id", "title").to_dict(as_series=False).values()))
    out = top.select(pl.int_range(1, pl.len() + 1).alias("rank"), pl.col("itemsets").alias("items"),
                     pl.col("itemsets").list.eval(pl.element().replace_strict(titles, default="")).alias("titles"),
                     "count", pl.col("expected_count").round(4), pl.col("support").round(5), pl.col("lift").round(1),
                     pl.col("lift_per_item").round(2))
    note = "completion skipped"
    if complete:
        new_ids, new_scores, note = _completion(run, top)
        out = out.with_columns(pl.Series("new_product", new_ids, dtype=pl.Utf8),
                               pl.Series("new_title", [titles.get(i) if i else None for i in new_ids], dtype=pl.Utf8),
                               pl.Series("new_score", new_scores, dtype=pl.Float64))
    return out, {"min_count": cfg.bundles_min_count, "max_size": cfg.bundles_max_size, "train_baskets": n_train,
                 "completion": note}
