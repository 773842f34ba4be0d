"""PyKEEN TSV (no tab or newline inside a label, read the way PyKEEN reads it) and Parquet edge lists."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import polars as pl
import pytest
from odd_run import ITEMS, RELATED

from graphassoc.export import ExportConfig, export


def _pykeen_read(path: Path) -> pd.DataFrame:
    # What pykeen.triples.utils.load_triples does with a TSV path.
    return pd.read_csv(path, sep="\t", header=None, dtype=str, encoding="utf-8", keep_default_na=False)


def _n_relations(run_dir: Path) -> int:
    edges = pl.read_parquet(run_dir / "graph" / "edges.parquet").height
    rules = pl.read_parquet(run_dir / "rules.parquet")
    single = rules.filter(pl.col("antecedents").list.len() == 1, pl.col("consequents").list.len() == 1).height
    return edges + single + sum(len(r) for r in RELATED.values())


def test_pykeen_triples_have_clean_labels_that_decode_to_the_ids(run_dir: Path) -> None:
    export(run_dir, "pykeen")
    folder = run_dir / "exports" / "pykeen"
    lines = (folder / "triples.tsv").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and all(line.count("\t") == 2 for line in lines[:-1])  # no tab/newline inside a label
    triples = _pykeen_read(folder / "triples.tsv")
    assert triples.shape == (_n_relations(run_dir), 3)
    assert set(triples[1]) == {"co_purchased_with", "implies", "similar_to"}
    entities = {unquote(x) for x in pd.concat([triples[0], triples[2]])}
    assert entities <= set(ITEMS) and "new\nline" in entities and 'quote"d' in entities
    labels = _pykeen_read(folder / "entities.tsv")
    assert {unquote(a): unquote(b) for a, b in zip(labels[0], labels[1])} == {i: v[0] for i, v in ITEMS.items()}


def test_pykeen_split_is_a_seeded_partition(run_dir: Path, tmp_path: Path) -> None:
    cfg = ExportConfig(pykeen_split=(0.6, 0.2, 0.2), split_seed=3)
    parts = {}
    for attempt in ("a", "b"):
        export(run_dir, "pykeen", out=tmp_path / attempt, cfg=cfg)
        parts[attempt] = {n: (tmp_path / attempt / f"{n}.tsv").read_text(encoding="utf-8") for n in ("train", "valid", "test")}
    assert parts["a"] == parts["b"]
    export(run_dir, "pykeen", out=tmp_path / "whole")
    whole = sorted((tmp_path / "whole" / "triples.tsv").read_text(encoding="utf-8").splitlines())
    split = [line for text in parts["a"].values() for line in text.splitlines()]
    assert sorted(split) == whole
    n = len(whole)
    assert len(parts["a"]["train"].splitlines()) == int(0.6 * n)


def test_parquet_edge_list_columns_and_values(run_dir: Path) -> None:
    export(run_dir, "parquet")
    folder = run_dir / "exports" / "parquet"
    edges = pl.read_parquet(folder / "edges.parquet")
    assert edges.columns[:9] == ["src", "dst", "relation", "weight", "support", "confidence", "lift", "score", "provenance"]
    assert edges.height == _n_relations(run_dir)
    raw = pl.read_parquet(run_dir / "graph" / "edges.parquet")
    co = edges.filter(pl.col("relation") == "co_purchase")
    assert co.select("src", "dst", "lift", "score").rows() == raw.select("src", "dst", "lift", "npmi").rows()
    assert set(edges["provenance"]) == {"co-purchase", "rule", "model", "both"}
    nodes = pl.read_parquet(folder / "nodes.parquet")
    assert nodes["item_id"].to_list() == list(ITEMS) and nodes["title"].to_list() == [v[0] for v in ITEMS.values()]
    assert pl.read_parquet(folder / "rules.parquet").height == pl.read_parquet(run_dir / "rules.parquet").height


@pytest.mark.parametrize("k", [1, 2])
def test_top_k_keeps_each_products_k_best_links(run_dir: Path, tmp_path: Path, k: int) -> None:
    export(run_dir, "parquet", out=tmp_path / "top", cfg=ExportConfig(top_k=k))
    got = pl.read_parquet(tmp_path / "top" / "edges.parquet")
    raw = pl.read_parquet(run_dir / "graph" / "edges.parquet").to_dicts()
    keep = set()
    for item in ITEMS:  # plain Python: each item's k best neighbours by npmi, ties by id
        mine = sorted((e for e in raw if item in (e["src"], e["dst"])),
                      key=lambda e: (-e["npmi"], e["dst"] if e["src"] == item else e["src"]))
        keep |= {(e["src"], e["dst"]) for e in mine[:k]}
    assert set(got.filter(pl.col("relation") == "co_purchase").select("src", "dst").rows()) == keep
    assert set(got.filter(pl.col("relation") == "similar")["rank"]) == set(range(1, k + 1))


def test_min_lift_drops_weaker_links_and_rules(run_dir: Path, tmp_path: Path) -> None:
    export(run_dir, "parquet", out=tmp_path / "lift", cfg=ExportConfig(min_lift=1.5))
    edges = pl.read_parquet(tmp_path / "lift" / "edges.parquet")
    raw = pl.read_parquet(run_dir / "graph" / "edges.parquet")
    assert edges.filter(pl.col("relation") == "co_purchase").height == raw.filter(pl.col("lift") >= 1.5).height > 0
    assert edges.filter(pl.col("relation") == "co_purchase")["lift"].min() >= 1.5
    rules = pl.read_parquet(tmp_path / "lift" / "rules.parquet")
    assert rules["lift"].min() >= 1.5 and rules.height < pl.read_parquet(run_dir / "rules.parquet").height


def test_text_similar_items_are_the_nearest_by_cosine(run_dir: Path, tmp_path: Path) -> None:
    import numpy as np
    import yaml

    from graphassoc.text.testing import save_tiny_bert

    words = sorted({w.lower() for v in ITEMS.values() for w in v[0].split()})
    model = save_tiny_bert(tmp_path / "bert", words)
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["text"]["model"] = str(model)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    export(run_dir, "parquet", out=tmp_path / "text", cfg=ExportConfig(text_similar_k=2))
    got = pl.read_parquet(tmp_path / "text" / "edges.parquet").filter(pl.col("provenance") == "text")
    (cache,) = (run_dir / "text").glob("embeddings-*.npy")  # the encoder's own cache, reused by later stages
    vectors = np.load(cache)
    ids = list(ITEMS)
    expected = []
    for i, item in enumerate(ids):  # plain Python: cosine against every other item, best first
        cos = [(float(vectors[i] @ vectors[j] / np.linalg.norm(vectors[i]) / np.linalg.norm(vectors[j])), j)
               for j in range(len(ids)) if j != i]
        best = sorted(cos, key=lambda c: (-c[0], c[1]))[:2]
        expected += [(item, ids[j], rank) for rank, (_, j) in enumerate(best, start=1)]
    assert got.select("src", "dst", "rank").rows() == expected
    assert got["relation"].unique().to_list() == ["similar"]
