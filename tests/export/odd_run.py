"""A tiny hand-made run directory (imported by conftest.py and the tests) whose ids and titles hold spaces, quotes, newlines, non-Latin
letters, emoji and markup characters. Edges are counted here from the baskets (plain Python), rules
come from mlxtend, so the exporters are checked against values computed independently of them."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from pathlib import Path

import pandas as pd
import polars as pl
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

from graphassoc.config import Config
from graphassoc.runs import write_json

# item id -> (title, description, category, price); row order is the node order
ITEMS = {
    "plain": ("Plain mug", "A mug.", "kitchen", 2.5),
    "with space": ('Lamp "Deluxe"', None, "home", 12.0),
    'quote"d': ("It's a 'quote' \"test\"", 'says "hi"', None, None),
    "new\nline": ("Mug\nwith newline", "line one\nline two", "kitchen", 1.0),
    "кириллица": ("Чашка для чая", "Фарфор", "кухня", 3.0),
    "emoji 🎁": ("Gift 🎁 box ✨", None, "gifts 🎀", 4.25),
    "日本語": ("日本の茶碗", "茶碗", None, 7.0),
    "a&b <x>": ("A & B <tag> 50% off #1", "back\\slash \\n not a newline", "misc", 0.5),
    "never sold": ("A product\tnobody bought\r\nyet", "new", "new", 9.99),
}
ODD_IDS = [i for i in ITEMS if i != "plain"]
TRAIN_BASKETS = [
    ["plain", "with space", 'quote"d'],
    ["plain", "with space", "new\nline"],
    ["plain", "emoji 🎁", "кириллица"],
    ["plain", "emoji 🎁"],
    ["emoji 🎁", "кириллица", "日本語"],
    ["with space", 'quote"d', "a&b <x>"],
    ["plain", "with space"],
    ["кириллица", "日本語", "a&b <x>", "new\nline"],
    ["plain", "emoji 🎁", "日本語"],
    ['quote"d', "new\nline"],
]
HELD_OUT_BASKETS = [["plain", "never sold"], ["emoji 🎁", "a&b <x>"]]
CUSTOMERS = ["CUSTOMER-SECRET-17850", "CUSTOMER-SECRET-13047"]
# the model's top related items: item -> [(related, score)], best first
RELATED = {
    "plain": [("emoji 🎁", 0.91), ("never sold", 0.83), ("кириллица", 0.5)],
    'quote"d': [("new\nline", 0.7), ("plain", 0.2)],
    "never sold": [("plain", 0.6), ("日本語", 0.1)],
}


def _edges(ids: list[str]) -> pl.DataFrame:
    n = len(TRAIN_BASKETS)
    single = Counter(i for b in TRAIN_BASKETS for i in b)
    pairs = Counter(p for b in TRAIN_BASKETS for p in itertools.combinations(sorted(b, key=ids.index), 2))
    rows = []
    for (a, b), c in sorted(pairs.items(), key=lambda kv: (ids.index(kv[0][0]), ids.index(kv[0][1]))):
        p_ab, p_a, p_b = c / n, single[a] / n, single[b] / n
        rows.append({"src": a, "dst": b, "src_idx": ids.index(a), "dst_idx": ids.index(b), "count": c,
                     "support": p_ab, "confidence_src_dst": c / single[a], "confidence_dst_src": c / single[b],
                     "lift": p_ab / (p_a * p_b), "npmi": math.log(p_ab / (p_a * p_b)) / -math.log(p_ab),
                     "jaccard": c / (single[a] + single[b] - c)})
    return pl.DataFrame(rows).cast({"src_idx": pl.Int32, "dst_idx": pl.Int32})


def _rules() -> pl.DataFrame:
    enc = TransactionEncoder()
    onehot = pd.DataFrame(enc.fit(TRAIN_BASKETS).transform(TRAIN_BASKETS), columns=enc.columns_)
    itemsets = fpgrowth(onehot, min_support=0.2, use_colnames=True)
    rules = association_rules(itemsets, num_itemsets=len(TRAIN_BASKETS), metric="confidence", min_threshold=0.3)
    rules["antecedents"] = rules["antecedents"].map(sorted)
    rules["consequents"] = rules["consequents"].map(sorted)
    rules["count"] = (rules["support"] * len(TRAIN_BASKETS)).round().astype("int64")
    measures = [c for c in rules.columns if c not in ("antecedents", "consequents", "count")]
    return pl.from_pandas(rules[["antecedents", "consequents", "count", *measures]])


def make_run(path: Path, with_model: bool = True) -> Path:
    ids = list(ITEMS)
    path.mkdir(parents=True)
    (path / "graph").mkdir()
    (path / "config.yaml").write_text(Config(seed=0).to_yaml())
    write_json(path / "meta.json", {"seed": 0, "timings": {}})
    baskets = [*TRAIN_BASKETS, *HELD_OUT_BASKETS]
    pl.DataFrame({
        "basket_id": [f"B{i}" for i in range(len(baskets))], "items": [sorted(b) for b in baskets],
        "timestamp": [None] * len(baskets), "user_id": [CUSTOMERS[i % 2] for i in range(len(baskets))],
        "split": ["train"] * len(TRAIN_BASKETS) + ["valid", "test"],
    }).write_parquet(path / "baskets.parquet")
    popularity = Counter(i for b in TRAIN_BASKETS for i in b)
    items = pl.DataFrame({
        "item_id": ids, "title": [v[0] for v in ITEMS.values()], "description": [v[1] for v in ITEMS.values()],
        "category": [v[2] for v in ITEMS.values()], "price": [v[3] for v in ITEMS.values()],
        "popularity": [popularity[i] for i in ids],
    }, schema_overrides={"price": pl.Float64, "popularity": pl.Int64})
    items.write_parquet(path / "items.parquet")
    edges = _edges(ids)
    edges.write_parquet(path / "graph" / "edges.parquet")
    degree = Counter(edges["src"].to_list() + edges["dst"].to_list())
    items.with_columns(degree=pl.Series([degree[i] for i in ids], dtype=pl.Int64)).write_parquet(path / "graph" / "nodes.parquet")
    _rules().write_parquet(path / "rules.parquet")
    if with_model:
        (path / "model").mkdir()
        rows = [{"item_id": item, "related_id": rel, "score": score, "rank": rank}
                for item, related in RELATED.items() for rank, (rel, score) in enumerate(related, start=1)]
        pl.DataFrame(rows).write_parquet(path / "model" / "related.parquet")
    return path
