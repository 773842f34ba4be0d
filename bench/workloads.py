"""Workloads for the scale benchmarks: seeded, offline, written as Parquet outside the repository.

    python bench/workloads.py replicate --times 16 --out /work/scale-data/x16.parquet
    python bench/workloads.py synthetic --items 100000 --baskets 2000000 --out /work/scale-data/syn_100k_2m
    python bench/workloads.py grocery --out /work/scale-data/grocery

replicate: a transactions file K times with disjoint ids. Block 0 is the source, byte for byte
(so the original block's test queries are exactly those of x1); block k >= 1 suffixes every
basket, item and customer id with `_r{k}` (suffixes, so cleaning's patterns, e.g. cancelled
invoices `^C` and product codes `^\\d{5}`, see every copy as they see the original) and rewrites its
titles with a word cipher of its own: a seeded permutation of the title vocabulary, applied word by
word (block 1: "HOME SWEET HOME CUSHION COVER" -> "AIRMAIL AIRLINE AIRMAIL PLANET CAGE"). Timestamps are kept, so the time
split puts each copy of a basket on the same side. Why titles change per block: the K blocks
stand for K different shops of the same shape, and what the text tells apart must be as in one
shop. Copies whose titles match (or differ by a tag: " (range k)" was measured, December 2026)
are near-duplicates to the encoder, so a never-seen product competes with its K-1 copies and
with the copies of every product that was close to it: at x4 the nearest-title term ranked
block 0's never-seen validation targets in the top 10 of the new items 0.39 of the time against
block 0's new items and 0.10 against all blocks' (bench/bench_invariance.py's doc). A cipher keeps
each block's word-overlap structure (a bijection: titles sharing words still share them) and
gives the blocks unrelated titles, as different shops have.

synthetic: a shop of N items x M baskets in canonical columns (transactions.parquet +
catalog.parquet): Zipf popularity, items grouped in themes whose titles share words, baskets
mostly from one or two themes, log-normal basket sizes fitted to the shared data (median 13,
long tail, capped; repeats of an item inside a basket are then dropped, which leaves ~8.5 items
a basket, Instacart's shape), and products launched over the year (an item appears in no basket before
its launch date, so the test period holds never-seen items).

grocery: the synthetic shop at a grocery's shape: a 49,688-item catalogue of which most items
are never sold, 15,000 orders of ~10 items.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

SHARED = Path("/work/shared/data/online_retail.parquet")
UCI_IDS = ("InvoiceNo", "StockCode")  # the id columns of the UCI file: suffixed per block
UCI_TITLE, UCI_CUSTOMER = "Description", "CustomerID"


def replicate(source: Path, times: int, out: Path, id_columns: tuple[str, ...] = UCI_IDS,
              title_column: str | None = UCI_TITLE, customer_column: str | None = UCI_CUSTOMER) -> pl.DataFrame:
    """`source` repeated `times` times with disjoint basket, item and customer ids and ciphered titles
    (see the module doc)."""
    base = pl.read_parquet(source) if source.suffix != ".csv" else pl.read_csv(source, infer_schema=False)
    titled = bool(title_column and title_column in base.columns)
    blocks = [base]
    for k in range(1, times):
        tag = f"_r{k}"
        cols = [pl.col(c).cast(pl.String) + tag for c in id_columns]
        if titled:
            cols.append(cipher_titles(base[title_column], seed=k).alias(title_column))
        if customer_column and customer_column in base.columns:
            # Customer ids stay numeric as in the source (UCI: float); an offset keeps them disjoint.
            dtype = base.schema[customer_column]
            cols.append(pl.col(customer_column) + (k * 10**7) if dtype.is_numeric() else pl.col(customer_column) + tag)
        blocks.append(base.with_columns(cols))
    table = pl.concat(blocks)
    _write(table, out)
    return table


def cipher_titles(titles: pl.Series, seed: int) -> pl.Series:
    """Each word replaced by its image under a seeded permutation of the words of `titles`, within three
    kinds (numbers, upper-case words, the rest); split on whitespace, so spacing becomes single spaces;
    nulls stay null."""
    words = sorted({w for t in titles.drop_nulls().to_list() for w in t.split()})
    image: dict[str, str] = {}
    rng = np.random.default_rng(seed)
    # Numbers map to numbers and upper-case words to upper-case words: a product title stays one in shape
    # (UCI's lower-case descriptions are stock notes such as "damaged", not products).
    for kind in (str.isdigit, lambda w: not w.isdigit() and w == w.upper(), lambda w: w != w.upper()):
        group = [w for w in words if kind(w)]
        image.update(zip(group, rng.permutation(group).tolist()))
    distinct = titles.unique().drop_nulls().to_list()
    mapping = {t: " ".join(image[w] for w in t.split()) for t in distinct}
    return titles.replace_strict(mapping, default=None, return_dtype=pl.String)


# --- the synthetic shop ---------------------------------------------------------------------------

ADJECTIVES = ("classic", "vintage", "modern", "rustic", "mini", "large", "deluxe", "organic", "retro", "scented",
              "glass", "ceramic", "wooden", "metal", "paper", "cotton", "velvet", "enamel", "bamboo", "silver")
COLOURS = ("red", "blue", "green", "pink", "white", "black", "ivory", "gold", "teal", "lilac", "orange", "grey")
NOUNS = ("mug", "candle", "lantern", "tin", "bag", "notebook", "cushion", "frame", "clock", "bowl", "jar", "tray",
         "ribbon", "card", "garland", "bottle", "plate", "apron", "umbrella", "doorstop", "coaster", "basket",
         "pencil", "sticker", "bunting", "vase", "teapot", "spoon", "towel", "magnet", "hook", "mirror")
MOTIFS = ("heart", "star", "owl", "rose", "spaceboy", "dolly", "polkadot", "paisley", "bird", "christmas",
          "regency", "skull", "cactus", "apple", "strawberry", "zebra", "woodland", "circus", "garden", "retrospot")


@dataclass(frozen=True)
class ShopShape:
    items: int
    baskets: int
    catalog_items: int | None = None  # > items: catalogue items never sold (grocery)
    basket_median: float = 13.0  # log-normal sizes: median and sigma fitted to the shared data's baskets
    basket_sigma: float = 0.9
    basket_max: int = 200
    items_per_theme: int = 40
    zipf: float = 1.0
    launched_late: float = 0.2  # share of items launched during the year rather than before it
    seed: int = 0


def synthetic(shape: ShopShape, out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """transactions (basket_id, item_id, timestamp, user_id, quantity, price) and catalog
    (item_id, title, category, price), written as out/transactions.parquet and out/catalog.parquet."""
    rng = np.random.default_rng(shape.seed)
    n_cat = max(shape.catalog_items or shape.items, shape.items)
    n_themes = max(1, shape.items // shape.items_per_theme)
    theme = rng.integers(0, n_themes, shape.items)
    weight = 1.0 / (rng.permutation(shape.items) + 1.0) ** shape.zipf  # Zipf popularity, rank independent of id
    year = 365 * 24 * 3600
    launch = np.where(rng.random(shape.items) < shape.launched_late, rng.integers(0, year, shape.items), -1)
    basket_of, item = _draw_lines(rng, shape, theme, weight, n_themes)
    basket_time = np.sort(rng.integers(0, year, shape.baskets))  # basket ids in time order
    keep = launch[item] <= basket_time[basket_of]  # nothing is bought before its launch
    basket_of, item = basket_of[keep], item[keep]
    start = datetime(2024, 1, 1)
    users = np.minimum(rng.zipf(1.3, shape.baskets), shape.baskets // 5 + 1)  # a few loyal customers, many rare ones
    price = np.round(rng.lognormal(1.0, 0.8, n_cat), 2) + 0.05
    transactions = pl.DataFrame({
        "b": basket_of, "i": item,
        "timestamp": (np.datetime64(start, "s") + basket_time[basket_of].astype("timedelta64[s]")).astype("datetime64[us]"),
        "u": users[basket_of],
        "quantity": rng.integers(1, 6, len(item)),
        "price": price[item],
    }).select(
        pl.format("B{}", pl.col("b").cast(pl.String).str.zfill(8)).alias("basket_id"),
        _item_ids(pl.col("i")), "timestamp", pl.format("U{}", "u").alias("user_id"), "quantity", "price")
    catalog = _catalog(rng, n_cat, theme, n_themes, price)
    out.mkdir(parents=True, exist_ok=True)
    _write(transactions, out / "transactions.parquet")
    _write(catalog, out / "catalog.parquet")
    return transactions, catalog


def _draw_lines(rng: np.random.Generator, shape: ShopShape, theme: np.ndarray, weight: np.ndarray,
                n_themes: int) -> tuple[np.ndarray, np.ndarray]:
    """(basket, item) lines, unique per basket: 70% of a basket's lines from its main theme, 20% from a
    second theme, 10% from the whole shop, each by popularity. Vectorised: a theme is a range of
    the theme-sorted cumulative weights and a draw is one searchsorted."""
    sizes = np.clip(np.rint(rng.lognormal(np.log(shape.basket_median), shape.basket_sigma, shape.baskets)),
                    1, shape.basket_max).astype(np.int64)
    by_theme = np.argsort(theme, kind="stable")
    cum = np.cumsum(weight[by_theme])
    bounds = np.searchsorted(theme[by_theme], np.arange(n_themes + 1))  # theme t: by_theme[bounds[t]:bounds[t+1]]
    lo = np.concatenate([[0.0], cum])[bounds[:-1]]
    hi = np.concatenate([[0.0], cum])[bounds[1:]]
    theme_p = (hi - lo) / cum[-1]
    main = rng.choice(n_themes, shape.baskets, p=theme_p)
    second = rng.choice(n_themes, shape.baskets, p=theme_p)
    basket_of = np.repeat(np.arange(shape.baskets, dtype=np.int64), sizes)
    source = rng.random(len(basket_of))
    chosen = np.where(source < 0.7, main[basket_of], second[basket_of])
    u = rng.random(len(basket_of))
    target = np.where(source < 0.9, lo[chosen] + u * (hi[chosen] - lo[chosen]), u * cum[-1])
    item = by_theme[np.minimum(np.searchsorted(cum, target, side="right"), len(cum) - 1)]
    key = np.unique(basket_of * len(weight) + item)  # an item counts once per basket
    return key // len(weight), key % len(weight)


def _item_ids(code: pl.Expr) -> pl.Expr:
    return pl.format("P{}", code.cast(pl.String).str.zfill(6)).alias("item_id")


def _catalog(rng: np.random.Generator, n_cat: int, theme: np.ndarray, n_themes: int, price: np.ndarray) -> pl.DataFrame:
    """Titles from a vocabulary: a theme's items share its motif and noun, so text carries the theme."""
    extra = n_cat - len(theme)
    all_theme = np.concatenate([theme, rng.integers(0, n_themes, extra)]) if extra else theme
    motif = rng.integers(0, len(MOTIFS), n_themes)[all_theme]
    noun = rng.integers(0, len(NOUNS), n_themes)[all_theme]
    adj = rng.integers(0, len(ADJECTIVES), n_cat)
    colour = rng.integers(0, len(COLOURS), n_cat)
    words = pl.DataFrame({"a": np.array(ADJECTIVES)[adj], "c": np.array(COLOURS)[colour],
                          "m": np.array(MOTIFS)[motif], "n": np.array(NOUNS)[noun]})
    return words.with_row_index("i").select(
        _item_ids(pl.col("i")),
        pl.format("{} {} {} {} no. {}", "a", "c", "m", "n", pl.col("i") % 97).str.to_uppercase().alias("title"),
        pl.format("theme {}", pl.Series(all_theme)).alias("category"),
        pl.Series("price", price),
    )


def _write(table: pl.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    table.write_parquet(tmp)
    tmp.replace(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    rep = sub.add_parser("replicate", help="a transactions file K times with disjoint ids")
    rep.add_argument("--source", type=Path, default=SHARED)
    rep.add_argument("--times", type=int, required=True)
    rep.add_argument("--out", type=Path, required=True)
    syn = sub.add_parser("synthetic", help="a synthetic shop: N items x M baskets")
    syn.add_argument("--items", type=int, required=True)
    syn.add_argument("--baskets", type=int, required=True)
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument("--out", type=Path, required=True)
    gro = sub.add_parser("grocery", help="49,688-item catalogue, most never sold, 15k orders")
    gro.add_argument("--seed", type=int, default=0)
    gro.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.kind == "replicate":
        table = replicate(args.source, args.times, args.out)
        print(f"{args.out}: {table.height:,} lines")
        return
    if args.kind == "synthetic":
        shape = ShopShape(items=args.items, baskets=args.baskets, seed=args.seed)
    else:  # Instacart's catalogue size; orders of ~10 items from a small sold range of it
        shape = ShopShape(items=8_000, baskets=15_000, catalog_items=49_688, basket_median=8.0, basket_sigma=0.6,
                          basket_max=80, seed=args.seed)
    transactions, catalog = synthetic(shape, args.out)
    print(f"{args.out}: {transactions.height:,} lines, {transactions['basket_id'].n_unique():,} baskets, "
          f"{transactions['item_id'].n_unique():,} items sold of {catalog.height:,} in the catalogue")


if __name__ == "__main__":
    main()
