"""Neo4j CSVs follow the admin-import header format and read back exactly; load.cypher loads the same files."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest
from odd_run import ITEMS, RELATED

from graphassoc.export import export

# neo4j-admin database import: `name:type`, `name:ID(space)` / `:ID(space)`, `:START_ID(space)`,
# `:END_ID(space)`, `:LABEL`, `:TYPE` (operations manual, "CSV header format").
TYPES = "int|long|float|double|boolean|byte|short|char|string|point|date|localtime|time|localdatetime|datetime|duration"
HEADER = re.compile(rf"^(?:[A-Za-z_][A-Za-z0-9_]*(?::(?:{TYPES})(?:\[\])?)?"
                    r"|[A-Za-z_][A-Za-z0-9_]*:ID\([A-Za-z]+\)|:(?:START_ID|END_ID)\([A-Za-z]+\)|:LABEL|:TYPE)$")


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))  # RFC 4180 quoting, as neo4j-admin reads it with --multiline-fields
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture
def neo4j_dir(run_dir: Path) -> Path:
    export(run_dir, "neo4j")
    return run_dir / "exports" / "neo4j"


def test_headers_follow_the_admin_import_format(neo4j_dir: Path) -> None:
    id_spaces = {}
    files = sorted(neo4j_dir.glob("*.csv"))
    assert {f.name for f in files} >= {"products.csv", "rules.csv", "co_purchase.csv", "similar.csv"}
    for path in files:
        header, _ = _read_csv(path)
        bad = [h for h in header if not HEADER.match(h)]
        assert not bad, (path.name, bad)
        ids = [h for h in header if ":ID(" in h]
        if ids:  # a node file: one ID column, one :LABEL
            assert len(ids) == 1 and ":LABEL" in header
            id_spaces[ids[0].split("(")[1][:-1]] = path
        else:  # a relationship file
            assert ":TYPE" in header and sum(h.startswith(":START_ID(") for h in header) == 1
            assert sum(h.startswith(":END_ID(") for h in header) == 1
    assert set(id_spaces) == {"Product", "Rule"}


def test_every_relationship_points_at_existing_nodes(neo4j_dir: Path) -> None:
    ids = {}
    for node_file in ("products.csv", "rules.csv"):
        header, rows = _read_csv(neo4j_dir / node_file)
        id_col = next(h for h in header if ":ID(" in h)
        ids[id_col.split("(")[1][:-1]] = {r[id_col] for r in rows}
    for path in neo4j_dir.glob("*.csv"):
        header, rows = _read_csv(path)
        for col in (h for h in header if h.startswith((":START_ID(", ":END_ID("))):
            space = col.split("(")[1][:-1]
            assert {r[col] for r in rows} <= ids[space], (path.name, col)


def test_values_read_back_exactly(neo4j_dir: Path, run_dir: Path) -> None:
    _, products = _read_csv(neo4j_dir / "products.csv")
    got = {r["sku:ID(Product)"]: (r["name"], r["description"], r["category"]) for r in products}
    assert got == {i: (t, d or "", c or "") for i, (t, d, c, _) in ITEMS.items()}  # newlines, quotes, emoji intact
    _, links = _read_csv(neo4j_dir / "co_purchase.csv")
    edges = pl.read_parquet(run_dir / "graph" / "edges.parquet").to_dicts()
    assert [(r[":START_ID(Product)"], r[":END_ID(Product)"], int(r["count:long"]), float(r["lift:double"])) for r in links] == \
           [(e["src"], e["dst"], e["count"], pytest.approx(e["lift"])) for e in edges]
    _, similar = _read_csv(neo4j_dir / "similar.csv")
    assert sorted((r[":START_ID(Product)"], int(r["rank:long"]), r[":END_ID(Product)"]) for r in similar) == \
           sorted((i, k, rel) for i, rs in RELATED.items() for k, (rel, _) in enumerate(rs, start=1))
    rules = pl.read_parquet(run_dir / "rules.parquet")
    _, antecedents = _read_csv(neo4j_dir / "rule_antecedents.csv")
    assert len(antecedents) == int(rules["antecedents"].list.len().sum())


def test_load_cypher_creates_constraints_and_loads_every_file_in_batches(neo4j_dir: Path) -> None:
    cypher = (neo4j_dir / "load.cypher").read_text(encoding="utf-8")
    assert "CREATE CONSTRAINT product_sku IF NOT EXISTS FOR (n:Product) REQUIRE n.sku IS UNIQUE;" in cypher
    assert "FOR (n:Rule) REQUIRE n.ruleId IS UNIQUE" in cypher
    statements = [s for s in cypher.split(";\n") if s.lstrip().startswith("LOAD CSV")]
    files = sorted(neo4j_dir.glob("*.csv"))
    assert len(statements) == len(files)
    for path in files:
        statement = next(s for s in statements if f"'file:///{path.name}'" in s)
        assert "IN TRANSACTIONS OF 10000 ROWS" in statement
        header, _ = _read_csv(path)
        for col in header:  # every column is read (":LABEL" / ":TYPE" are written into the statement)
            assert col in (":LABEL", ":TYPE") or f"row.`{col}`" in statement, (path.name, col)
    # nodes are loaded before the relationships that MATCH them
    assert cypher.index("file:///products.csv") < cypher.index("file:///co_purchase.csv")
    script = (neo4j_dir / "import.sh").read_text()
    assert "--multiline-fields=true" in script and all(f"={p.name}" in script for p in files)
