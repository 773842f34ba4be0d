"""GraphML and GEXF read back with networkx: same nodes, edges and attributes as the run holds."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from odd_run import ITEMS, RELATED

from graphassoc.export import export

READERS = {
    "graphml": ("graph.graphml", lambda p: nx.read_graphml(p, force_multigraph=True)),
    "gexf": ("graph.gexf", nx.read_gexf),
}


def _read(run_dir: Path, fmt: str) -> nx.MultiDiGraph:
    export(run_dir, fmt)
    name, reader = READERS[fmt]
    graph = reader(run_dir / "exports" / fmt / name)
    assert graph.is_directed() and graph.is_multigraph()
    return graph


def _expected_edges(run_dir: Path) -> dict[tuple[str, str, str], dict]:
    """(src, dst, relation) -> attributes, straight from the run's tables."""
    out: dict[tuple[str, str, str], dict] = {}
    for e in pl.read_parquet(run_dir / "graph" / "edges.parquet").to_dicts():
        out[(e["src"], e["dst"], "co_purchase")] = {"weight": float(e["count"]), "count": e["count"], "lift": e["lift"],
                                                    "support": e["support"], "confidence": e["confidence_src_dst"],
                                                    "score": e["npmi"], "provenance": "co-purchase"}
    for r in pl.read_parquet(run_dir / "rules.parquet").to_dicts():
        if len(r["antecedents"]) == 1 and len(r["consequents"]) == 1:
            out[(r["antecedents"][0], r["consequents"][0], "rule")] = {"confidence": r["confidence"], "lift": r["lift"],
                                                                       "count": r["count"], "provenance": "rule"}
    for item, related in RELATED.items():
        for rank, (rel, score) in enumerate(related, start=1):
            out[(item, rel, "similar")] = {"score": score, "weight": score, "rank": rank}
    return out


@pytest.mark.parametrize("fmt", list(READERS))
def test_nodes_keep_ids_labels_and_attributes(run_dir: Path, fmt: str) -> None:
    graph = _read(run_dir, fmt)
    assert set(graph.nodes) == set(ITEMS)  # odd ids (spaces, quotes, newline, emoji, ...) unchanged
    nodes = pl.read_parquet(run_dir / "graph" / "nodes.parquet").to_dicts()
    for row in nodes:
        attrs = graph.nodes[row["item_id"]]
        assert attrs["label"] == row["title"] and attrs["sku"] == row["item_id"]
        assert attrs["popularity"] == row["popularity"] and attrs["degree"] == row["degree"]
        for key in ("description", "category", "price"):
            assert attrs.get(key) == row[key]  # a missing value is left out, never written as None


@pytest.mark.parametrize("fmt", list(READERS))
def test_edges_keep_relations_weights_and_measures(run_dir: Path, fmt: str) -> None:
    graph = _read(run_dir, fmt)
    expected = _expected_edges(run_dir)
    got = {(u, v, d["relation"]): d for u, v, d in graph.edges(data=True)}
    assert set(got) == set(expected)
    for key, attrs in expected.items():
        for name, value in attrs.items():
            assert got[key][name] == pytest.approx(value) if isinstance(value, float) else got[key][name] == value, (key, name)
        assert "weight" in got[key]


@pytest.mark.parametrize("fmt", list(READERS))
def test_values_have_types_the_formats_allow(run_dir: Path, fmt: str) -> None:
    graph = _read(run_dir, fmt)
    values = [v for _, d in graph.nodes(data=True) for v in d.values()]
    values += [v for *_, d in graph.edges(data=True) for v in d.values()]
    assert values and all(type(v) in (str, int, float) for v in values)
    assert all(isinstance(d["count"], int) for *_, d in graph.edges(data=True) if "count" in d)


def test_graphml_declares_one_type_per_attribute(run_dir: Path) -> None:
    export(run_dir, "graphml")
    text = (run_dir / "exports" / "graphml" / "graph.graphml").read_text(encoding="utf-8")
    keys = [line for line in text.splitlines() if "<key " in line]
    names = [(k.split('attr.name="')[1].split('"')[0], k.split('for="')[1].split('"')[0]) for k in keys]
    assert len(names) == len(set(names))  # no attribute declared twice with two types
    assert 'attr.type="long"' in text and 'attr.type="double"' in text and "None" not in text
