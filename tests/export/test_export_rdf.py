"""Turtle and N-Triples parse back with rdflib and load into a real RDF store (pyoxigraph)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest
import rdflib
from rdflib import XSD, Literal, Namespace, URIRef

from graphassoc.export import ExportConfig, export

from odd_run import ITEMS, RELATED

pyoxigraph = pytest.importorskip("pyoxigraph")

BASE = "https://example.org/graphassoc/"
GA = Namespace(BASE + "vocab/")
SCHEMA = Namespace("https://schema.org/")
PREFIXES = f"PREFIX ga: <{GA}> PREFIX schema: <{SCHEMA}> "
FILES = {"turtle": ("graph.ttl", pyoxigraph.RdfFormat.TURTLE), "ntriples": ("graph.nt", pyoxigraph.RdfFormat.N_TRIPLES)}


def _export(run_dir: Path, fmt: str) -> Path:
    export(run_dir, fmt)
    return run_dir / "exports" / fmt / FILES[fmt][0]


def _store(path: Path, fmt: str) -> "pyoxigraph.Store":
    store = pyoxigraph.Store()
    store.load(path=str(path), format=FILES[fmt][1])
    return store


def _count(store: "pyoxigraph.Store", where: str) -> int:
    rows = list(store.query(PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"))
    return int(rows[0]["n"].value)


@pytest.fixture
def rdf_files(run_dir: Path) -> dict[str, Path]:
    return {fmt: _export(run_dir, fmt) for fmt in FILES}


def test_turtle_and_ntriples_hold_the_same_triples(rdf_files: dict[str, Path], run_dir: Path) -> None:
    turtle = rdflib.Graph().parse(rdf_files["turtle"], format="turtle")
    ntriples = rdflib.Graph().parse(rdf_files["ntriples"], format="nt")
    assert len(turtle) > 0 and set(turtle) == set(ntriples)
    manifest = (run_dir / "exports" / "turtle" / "export.json").read_text()
    assert f'"graph.ttl": {len(turtle)}' in manifest  # the triple count the result reports


@pytest.mark.parametrize("fmt", list(FILES))
def test_sparql_counts_match_the_run(rdf_files: dict[str, Path], run_dir: Path, fmt: str) -> None:
    store = _store(rdf_files[fmt], fmt)
    edges = pl.read_parquet(run_dir / "graph" / "edges.parquet")
    rules = pl.read_parquet(run_dir / "rules.parquet")
    related = pl.read_parquet(run_dir / "model" / "related.parquet")
    assert _count(store, "?p a schema:Product") == len(ITEMS)
    assert _count(store, "?a schema:isRelatedTo ?b") == edges.height
    assert _count(store, "?r a ga:Relation ; ga:predicate schema:isRelatedTo ; ga:provenance 'co-purchase'") == edges.height
    assert _count(store, "?r a ga:Rule") == rules.height
    assert _count(store, "?a schema:isSimilarTo ?b") == related.height
    n_antecedent_items = int(rules["antecedents"].list.len().sum())
    assert _count(store, "?r a ga:Rule ; ga:antecedent ?i . ?i a schema:Product") == n_antecedent_items


def _expected_neighbours(run_dir: Path, item: str) -> list[str]:
    """The item's co-purchase neighbours by npmi, best first (ties: id), from the raw edge table."""
    rows = pl.read_parquet(run_dir / "graph" / "edges.parquet").to_dicts()
    pairs = [(r["npmi"], r["dst"] if r["src"] == item else r["src"]) for r in rows if item in (r["src"], r["dst"])]
    return [other for _, other in sorted(pairs, key=lambda p: (-p[0], p[1]))]


@pytest.mark.parametrize("fmt", list(FILES))
@pytest.mark.parametrize("item", ["plain", "new\nline", "кириллица"])
def test_sparql_top_related_products_in_order(rdf_files: dict[str, Path], run_dir: Path, fmt: str, item: str) -> None:
    store = _store(rdf_files[fmt], fmt)
    query = PREFIXES + f"""
        SELECT ?sku WHERE {{
          ?x schema:sku {Literal(item).n3()} .
          ?r a ga:Relation ; ga:predicate schema:isRelatedTo ; ga:score ?score .
          {{ ?r ga:source ?x ; ga:target ?o }} UNION {{ ?r ga:target ?x ; ga:source ?o }}
          ?o schema:sku ?sku .
        }} ORDER BY DESC(?score) ?sku"""
    got = [row["sku"].value for row in store.query(query)]
    assert got == _expected_neighbours(run_dir, item) and len(got) >= 3


@pytest.mark.parametrize("fmt", list(FILES))
def test_sparql_model_related_items_in_rank_order(rdf_files: dict[str, Path], fmt: str) -> None:
    store = _store(rdf_files[fmt], fmt)
    for item, related in RELATED.items():
        query = PREFIXES + f"""
            SELECT ?sku ?provenance WHERE {{
              ?x schema:sku {Literal(item).n3()} .
              ?r ga:source ?x ; ga:target ?o ; ga:predicate schema:isSimilarTo ; ga:rank ?rank ; ga:provenance ?provenance .
              ?x schema:isSimilarTo ?o . ?o schema:sku ?sku .
            }} ORDER BY ?rank"""
        rows = list(store.query(query))
        assert [r["sku"].value for r in rows] == [rel for rel, _ in related]
        assert {r["provenance"].value for r in rows} <= {"model", "both"}


def test_model_provenance_says_both_when_a_rule_agrees(run_dir: Path) -> None:
    graph = rdflib.Graph().parse(_export(run_dir, "ntriples"), format="nt")
    rules = pl.read_parquet(run_dir / "rules.parquet").to_dicts()
    backed = {(a, c) for r in rules for a in r["antecedents"] for c in r["consequents"]}
    seen = {}
    for rel in graph.subjects(GA.predicate, SCHEMA.isSimilarTo):
        src = str(graph.value(graph.value(rel, GA.source), SCHEMA.sku))
        dst = str(graph.value(graph.value(rel, GA.target), SCHEMA.sku))
        seen[(src, dst)] = str(graph.value(rel, GA.provenance))
    assert seen == {(i, r): "both" if (i, r) in backed else "model" for i, rel in RELATED.items() for r, _ in rel}
    assert "both" in seen.values() and "model" in seen.values()


@pytest.mark.parametrize("fmt", list(FILES))
def test_odd_ids_and_titles_survive(rdf_files: dict[str, Path], fmt: str) -> None:
    graph = rdflib.Graph().parse(rdf_files[fmt], format="turtle" if fmt == "turtle" else "nt")
    for item_id, (title, description, category, _) in ITEMS.items():
        node = URIRef(BASE + "item/" + quote(item_id, safe=""))
        assert graph.value(node, SCHEMA.sku) == Literal(item_id)
        assert graph.value(node, SCHEMA.name) == Literal(title)
        assert graph.value(node, SCHEMA.description) == (Literal(description) if description is not None else None)
        assert graph.value(node, SCHEMA.category) == (Literal(category) if category is not None else None)


def test_literals_are_typed_and_rules_keep_their_items(run_dir: Path) -> None:
    graph = rdflib.Graph().parse(_export(run_dir, "turtle"), format="turtle")
    for lit in graph.objects(None, GA.lift):
        assert lit.datatype == XSD.double
    for lit in graph.objects(None, GA["count"]):
        assert lit.datatype == XSD.integer
    rules = pl.read_parquet(run_dir / "rules.parquet").to_dicts()
    exported = set()
    for rule in graph.subjects(rdflib.RDF.type, GA.Rule):
        ante = frozenset(str(graph.value(i, SCHEMA.sku)) for i in graph.objects(rule, GA.antecedent))
        cons = frozenset(str(graph.value(i, SCHEMA.sku)) for i in graph.objects(rule, GA.consequent))
        exported.add((ante, cons, graph.value(rule, GA.confidence).toPython(), graph.value(rule, GA["count"]).toPython()))
    assert exported == {(frozenset(r["antecedents"]), frozenset(r["consequents"]), r["confidence"], r["count"]) for r in rules}


def test_base_iri_and_http_schema_are_configurable(run_dir: Path) -> None:
    cfg = ExportConfig(base_iri="http://shop.example/kg#", schema_scheme="http")
    export(run_dir, "turtle", cfg=cfg)
    graph = rdflib.Graph().parse(run_dir / "exports" / "turtle" / "graph.ttl", format="turtle")
    products = set(graph.subjects(rdflib.RDF.type, URIRef("http://schema.org/Product")))
    assert len(products) == len(ITEMS)
    assert URIRef("http://shop.example/kg#item/emoji%20%F0%9F%8E%81") in products
    assert all(str(s).startswith("http://shop.example/kg#") for s in graph.subjects())
