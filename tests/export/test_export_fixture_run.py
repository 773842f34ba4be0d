"""Every format on a run built by build-graph from the bundled real fixture: the formats agree with
each other and with the run, the RDF loads into pyoxigraph, and no customer id is exported."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import networkx as nx
import polars as pl
import pytest

from graphassoc.export import ExportConfig, export

pyoxigraph = pytest.importorskip("pyoxigraph")
TOP_K = 4  # keeps the RDF small enough for a quick test; the full graph is exercised in bench/


@pytest.fixture(scope="module")
def exported(fixture_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    run = Path(shutil.copytree(fixture_run, tmp_path_factory.mktemp("export") / "run"))  # export writes meta.json
    export(run, "all", cfg=ExportConfig(top_k=TOP_K, graph_top_k=None))  # every format holds the same links
    return run, run / "exports"


def test_formats_agree_with_the_run_and_each_other(exported: tuple[Path, Path]) -> None:
    run, out = exported
    items = pl.read_parquet(run / "items.parquet")
    rules = pl.read_parquet(run / "rules.parquet")
    edges = pl.read_parquet(out / "parquet" / "edges.parquet")
    co_purchase = edges.filter(pl.col("relation") == "co_purchase").height
    assert 0 < co_purchase <= TOP_K * items.height

    store = pyoxigraph.Store()
    store.load(path=str(out / "ntriples" / "graph.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    count = lambda where: int(next(iter(store.query(  # noqa: E731
        f"PREFIX schema: <https://schema.org/> PREFIX ga: <https://example.org/graphassoc/vocab/> "
        f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")))["n"].value)
    assert count("?p a schema:Product") == items.height
    assert count("?a schema:isRelatedTo ?b") == co_purchase
    assert count("?r a ga:Rule") == rules.height

    graph = nx.read_graphml(out / "graphml" / "graph.graphml", force_multigraph=True)
    assert graph.number_of_nodes() == items.height and graph.number_of_edges() == edges.height
    gexf = nx.read_gexf(out / "gexf" / "graph.gexf")
    assert set(gexf.nodes) == set(graph.nodes) and gexf.number_of_edges() == edges.height

    with (out / "neo4j" / "co_purchase.csv").open(encoding="utf-8", newline="") as fh:
        assert sum(1 for _ in csv.reader(fh)) - 1 == co_purchase
    triples = (out / "pykeen" / "triples.tsv").read_text(encoding="utf-8").splitlines()
    assert len(triples) == edges.height and all(t.count("\t") == 2 for t in triples)


def test_no_customer_id_is_exported(exported: tuple[Path, Path]) -> None:
    run, out = exported
    users = set(pl.read_parquet(run / "baskets.parquet")["user_id"].drop_nulls().to_list())
    users -= set(pl.read_parquet(run / "items.parquet")["item_id"].to_list())  # a StockCode may look like one
    assert len(users) > 100
    fields: set[str] = set()
    for path in (out / "neo4j").glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            fields.update(field for row in csv.reader(fh) for field in row)
    for path in (out / "pykeen").glob("*.tsv"):
        fields.update(path.read_text(encoding="utf-8").replace("\n", "\t").split("\t"))
    for path in (out / "parquet").glob("*.parquet"):
        frame = pl.read_parquet(path)
        for col, dtype in frame.schema.items():
            if dtype == pl.String:
                fields.update(frame[col].drop_nulls().to_list())
    assert fields and not (fields & users)
    nt = (out / "ntriples" / "graph.nt").read_text(encoding="utf-8")
    terms = set(re.findall(r'"([^"\\]*)"', nt)) | set(re.findall(r"/item/([^>]*)>", nt))
    assert terms and not (terms & users)
