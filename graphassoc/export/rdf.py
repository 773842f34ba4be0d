"""Turtle and N-Triples: products as schema:Product, links as schema:isRelatedTo / schema:isSimilarTo,
and every rule and scored link as a node of the package's vocabulary (<base>vocab/).

Why not build an rdflib Graph and call serialize(): on the full shared data that is ~20M triples,
~60 us each through rdflib's store and Turtle serializer (over 20 minutes and many GB). Instead
rdflib escapes every distinct string once (IRIs of items, N-Triples-quoted literals, which are
also valid Turtle), and polars assembles the statements column-wise, a chunk of subjects at a time.
Tests parse the output back with rdflib and load it into pyoxigraph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import polars as pl
from rdflib import RDF, XSD, Literal, URIRef
from rdflib.plugins.serializers.nt import _quoteLiteral  # rdflib's N-Triples literal escaping

from graphassoc.export.config import ExportConfig
from graphassoc.export.registry import EXPORTERS
from graphassoc.export.tables import ExportTables

# Local names of the package vocabulary, in the order their statements are written.
RELATION_NUMBERS = {"weight": "weight", "score": "score", "support": "support", "confidence": "confidence",
                    "reverseConfidence": "reverse_confidence", "lift": "lift"}
RULE_NUMBERS = {"support": "support", "confidence": "confidence", "lift": "lift", "leverage": "leverage", "score": "score"}
PREDICATE_OF = {"co_purchase": "isRelatedTo", "similar": "isSimilarTo"}


def item_iri(base: str, item_id: str) -> str:
    """Percent-encode the whole id (safe=''), so any text makes one valid IRI segment."""
    return f"{base}item/{quote(item_id, safe='')}"


def literal(text: str) -> str:
    return _quoteLiteral(Literal(text))


@dataclass(frozen=True)
class _Vocab:
    """Renders IRIs for one syntax: full <...> in N-Triples, prefixed names in Turtle."""

    base: str
    schema: str
    turtle: bool

    @property
    def ga(self) -> str:
        return f"{self.base}vocab/"

    def prefixes(self) -> str:
        pairs = {"ga": self.ga, "schema": self.schema, "xsd": str(XSD), "rdf": str(RDF)}
        return "".join(f"@prefix {p}: {URIRef(ns).n3()} .\n" for p, ns in pairs.items()) + "\n"

    def term(self, prefix: str, local: str) -> str:
        ns = {"ga": self.ga, "schema": self.schema, "xsd": str(XSD), "rdf": str(RDF)}[prefix]
        return f"{prefix}:{local}" if self.turtle else URIRef(ns + local).n3()

    def typed(self, lexical: pl.Expr, datatype: str) -> pl.Expr:
        return pl.concat_str([pl.lit('"'), lexical, pl.lit('"^^' + self.term("xsd", datatype))])

    def double(self, col: str) -> pl.Expr:
        # polars prints inf/-inf as inf/-inf; xsd:double spells them INF/-INF (NaN is the same).
        text = pl.col(col).cast(pl.String).replace({"inf": "INF", "-inf": "-INF"})
        return self.typed(text, "double")

    def integer(self, col: str) -> pl.Expr:
        return self.typed(pl.col(col).cast(pl.String), "integer")


class _Statements:
    """Statements of one subject per row, rendered as text by polars expressions."""

    def __init__(self, vocab: _Vocab, subject: pl.Expr, rdf_type: str) -> None:
        self.v = vocab
        self.subject = subject
        self.pieces: list[pl.Expr] = []
        self.counts: list[pl.Expr] = []
        self.extra: list[pl.Expr] = []  # whole statements about other subjects, e.g. <a> isRelatedTo <b>
        self.add(vocab.term("rdf", "type"), pl.lit(rdf_type))

    def add(self, predicate: str, obj: pl.Expr) -> None:
        """One statement; no statement where obj is null."""
        if self.v.turtle:
            head = pl.lit(" a " if predicate == "rdf:type" else f" ;\n    {predicate} ")
            self.pieces.append(pl.concat_str([head, obj]))
        else:
            self.pieces.append(pl.concat_str([self.subject, pl.lit(f" {predicate} "), obj, pl.lit(" .\n")]))
        self.counts.append(obj.is_not_null().cast(pl.Int64))

    def add_all(self, predicate: str, objs: pl.Expr) -> None:
        """One statement per element of a list of rendered objects."""
        if self.v.turtle:
            self.pieces.append(pl.concat_str([pl.lit(f" ;\n    {predicate} "), objs.list.join(", ")]))
        else:
            sep = pl.concat_str([pl.lit(" .\n"), self.subject, pl.lit(f" {predicate} ")])
            self.pieces.append(pl.concat_str([self.subject, pl.lit(f" {predicate} "), objs.list.join(sep), pl.lit(" .\n")]))
        self.counts.append(objs.list.len().cast(pl.Int64))

    def add_statement(self, subject: pl.Expr, predicate: pl.Expr, obj: pl.Expr) -> None:
        self.extra.append(pl.concat_str([subject, pl.lit(" "), predicate, pl.lit(" "), obj, pl.lit(" .\n")]))
        self.counts.append(pl.lit(1, pl.Int64))

    def text(self) -> pl.Expr:
        pieces = [self.subject, *self.pieces, pl.lit(" .\n")] if self.v.turtle else list(self.pieces)
        return pl.concat_str([pl.concat_str(pieces, ignore_nulls=True), *self.extra], ignore_nulls=True)

    def count(self) -> pl.Expr:
        return pl.sum_horizontal(self.counts).sum()


def _item_statements(v: _Vocab) -> _Statements:
    st = _Statements(v, pl.col("_iri"), v.term("schema", "Product"))
    st.add(v.term("schema", "sku"), pl.col("_sku"))
    st.add(v.term("schema", "name"), pl.col("_name"))
    st.add(v.term("schema", "description"), pl.col("_description"))
    st.add(v.term("schema", "category"), pl.col("_category"))
    st.add(v.term("ga", "price"), v.double("price"))
    st.add(v.term("ga", "popularity"), v.integer("popularity"))
    st.add(v.term("ga", "degree"), v.integer("degree"))
    return st


def _relation_statements(v: _Vocab) -> _Statements:
    st = _Statements(v, pl.col("_iri"), v.term("ga", "Relation"))
    st.add(v.term("ga", "source"), pl.col("_src"))
    st.add(v.term("ga", "target"), pl.col("_dst"))
    st.add(v.term("ga", "predicate"), pl.col("_predicate"))
    st.add(v.term("ga", "provenance"), pl.col("_provenance"))
    for local, col in RELATION_NUMBERS.items():
        st.add(v.term("ga", local), v.double(col))
    st.add(v.term("ga", "count"), v.integer("count"))
    st.add(v.term("ga", "rank"), v.integer("rank"))
    # The plain link too, so that schema.org-only consumers see it: <src> schema:isRelatedTo <dst>.
    st.add_statement(pl.col("_src"), pl.col("_predicate"), pl.col("_dst"))
    return st


def _rule_statements(v: _Vocab) -> _Statements:
    st = _Statements(v, pl.col("_iri"), v.term("ga", "Rule"))
    st.add_all(v.term("ga", "antecedent"), pl.col("_antecedents"))
    st.add_all(v.term("ga", "consequent"), pl.col("_consequents"))
    st.add(v.term("ga", "count"), v.integer("count"))
    for local, col in RULE_NUMBERS.items():
        st.add(v.term("ga", local), v.double(col))
    st.add(v.term("ga", "provenance"), pl.lit(literal("rule")))
    return st


def _chunks(df: pl.DataFrame, rows: int) -> Iterator[pl.DataFrame]:
    for start in range(0, df.height, rows):
        yield df.slice(start, rows)


def _write_rdf(tables: ExportTables, path: Path, cfg: ExportConfig, turtle: bool) -> dict[str, int]:
    v = _Vocab(base=cfg.base_iri, schema=f"{cfg.schema_scheme}://schema.org/", turtle=turtle)
    ids = tables.items["item_id"].to_list()
    iris = [URIRef(item_iri(cfg.base_iri, i)).n3() for i in ids]

    def iri_of(col: str | pl.Expr) -> pl.Expr:
        expr = pl.col(col) if isinstance(col, str) else col
        return expr.replace_strict(ids, iris, return_dtype=pl.String)

    def text_or_null(col: str) -> pl.Expr:
        values = tables.items[col]
        return pl.Series([None if x is None else literal(x) for x in values.to_list()], dtype=pl.String)

    items = tables.items.with_columns(
        _iri=pl.Series(iris, dtype=pl.String), _sku=pl.Series([literal(i) for i in ids], dtype=pl.String),
        _name=text_or_null("title"), _description=text_or_null("description"), _category=text_or_null("category"),
    )
    predicates = {rel: v.term("schema", local) for rel, local in PREDICATE_OF.items()}
    relations = tables.relations.filter(pl.col("relation").is_in(list(PREDICATE_OF))).with_row_index("_n")
    provenances = {p: literal(p) for p in relations["provenance"].unique().to_list()}
    rules = tables.rules

    triples = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        if turtle:
            fh.write(v.prefixes())
        jobs = [(items, _item_statements(v), lambda df: df)]
        jobs.append((relations, _relation_statements(v), lambda df: df.with_columns(
            _iri=pl.concat_str([pl.lit(f"<{cfg.base_iri}relation/"), pl.col("_n").cast(pl.String), pl.lit(">")]),
            _src=iri_of("src"), _dst=iri_of("dst"),
            _predicate=pl.col("relation").replace_strict(predicates, return_dtype=pl.String),
            _provenance=pl.col("provenance").replace_strict(provenances, return_dtype=pl.String))))
        jobs.append((rules, _rule_statements(v), lambda df: df.with_columns(
            _iri=pl.concat_str([pl.lit(f"<{cfg.base_iri}rule/"), pl.col("rule_id").cast(pl.String), pl.lit(">")]),
            _antecedents=pl.col("antecedents").list.eval(iri_of(pl.element())),
            _consequents=pl.col("consequents").list.eval(iri_of(pl.element())))))
        for table, statements, prepare in jobs:
            text, count = statements.text(), statements.count()
            for chunk in _chunks(table, cfg.rdf_chunk_rows):
                out = prepare(chunk).select(text=text.str.join(""), n=count)
                fh.write(out["text"][0] or "")
                triples += int(out["n"][0] or 0)
    return {path.name: triples}


@EXPORTERS.register("turtle", "RDF Turtle: schema.org products, links, rules and scored relations as nodes")
def export_turtle(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    return _write_rdf(tables, out_dir / "graph.ttl", cfg, turtle=True)


@EXPORTERS.register("ntriples", "RDF N-Triples: the same statements as turtle, one per line")
def export_ntriples(tables: ExportTables, out_dir: Path, cfg: ExportConfig) -> dict[str, int]:
    return _write_rdf(tables, out_dir / "graph.nt", cfg, turtle=False)
