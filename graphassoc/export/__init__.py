"""Knowledge-graph exports: RDF (Turtle, N-Triples), GraphML, GEXF, Neo4j, PyKEEN, Parquet.

`graphassoc.config` imports this package for ExportConfig, so the exporters (rdflib, networkx)
load only when `export` is first used.
"""

from typing import Any

from graphassoc.export.config import ExportConfig

__all__ = ["ExportConfig", "ExportResult", "export"]


def __getattr__(name: str) -> Any:
    if name in ("export", "ExportResult"):
        from graphassoc.export import api

        return getattr(api, name)
    raise AttributeError(name)
