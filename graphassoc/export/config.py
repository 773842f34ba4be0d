"""Config of knowledge-graph exports."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from graphassoc.data.config import StrictModel

# Characters an IRI may not hold raw (RFC 3987): space, controls, <>"{}|\^`.
_BAD_IRI_CHARS = re.compile(r'[\x00-\x20<>"{}|\\^`]')


class ExportConfig(StrictModel):
    # Namespace of the exported items, rules and relations, and of the package's own vocabulary
    # (<base>vocab/). It must end in '/' or '#' so that appended ids form clean IRIs.
    base_iri: str = "https://example.org/graphassoc/"
    # schema.org publishes https://schema.org/ but many older tools only match http://schema.org/.
    schema_scheme: Literal["https", "http"] = "https"
    # Keep, per product, only its K strongest co-purchase links and the model's K top related items
    # (a link stays when it is in the top K of either end). None exports every link.
    top_k: int | None = Field(default=None, ge=1)
    # GraphML and GEXF keep, per product and relation, its K best links (by score; a link stays when
    # it is in the top K of either end), so a person can open the file in Gephi: the full shared data's
    # 2.5M links make a 1.1 GB GraphML that networkx needs 14 GB to read. The manifest's config states
    # it; None writes every link (`--set export.graph_top_k=null`). top_k, when set, applies first.
    graph_top_k: int | None = Field(default=20, ge=1)
    # Drop co-purchase links and rules whose lift is below this. None keeps all.
    min_lift: float | None = Field(default=None, ge=0.0)
    # Measure that ranks co-purchase neighbours (the `score` of a co-purchase link). npmi is
    # bounded and does not favour the best sellers the way count does, nor rare pairs the way lift does.
    score: Literal["npmi", "lift", "count", "support", "jaccard"] = "npmi"
    include_rules: bool = True
    # Also export each product's K nearest products by title/description embedding (cosine, the
    # run's text encoder, cached in RUN/text/) as schema:isSimilarTo with provenance "text".
    # 0 = off: when the cache is cold this encodes the catalogue once (torch + the local model).
    text_similar_k: int = Field(default=0, ge=0)
    # Fractions of the PyKEEN triples that go to train/valid/test; None writes one triples.tsv.
    pykeen_split: tuple[float, float, float] | None = None
    split_seed: int = 0
    # Rows per transaction in load.cypher's `CALL { ... } IN TRANSACTIONS OF n ROWS`.
    neo4j_batch_rows: int = Field(default=10_000, ge=1)
    # RDF is rendered this many subjects at a time, which bounds memory on big graphs.
    rdf_chunk_rows: int = Field(default=25_000, ge=1)

    @field_validator("base_iri")
    @classmethod
    def _clean_base(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) or _BAD_IRI_CHARS.search(value):
            raise ValueError("must be an absolute IRI without spaces or <>\"{}|\\^`, e.g. https://shop.example/kg/")
        if not value.endswith(("/", "#")):
            raise ValueError("must end with '/' or '#', e.g. https://shop.example/kg/")
        return value

    @field_validator("pykeen_split")
    @classmethod
    def _fractions(cls, value: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if value is not None and (min(value) < 0 or abs(sum(value) - 1.0) > 1e-9 or value[0] <= 0):
            raise ValueError("must be three fractions train, valid, test summing to 1, e.g. [0.8, 0.1, 0.1]")
        return value
