"""The export formats, by name (`graphassoc ls exporters`).

An exporter is `fn(tables, out_dir, cfg) -> {file name: rows or triples written}`; it writes its
files into out_dir, a temporary directory that becomes the export only once every file is complete.
"""

from __future__ import annotations

from typing import Callable

from graphassoc.registry import Registry

Exporter = Callable[..., dict[str, int]]
EXPORTERS: Registry[Exporter] = Registry("exporter")

# Importing the format modules registers them; they import EXPORTERS from here, defined above.
# (in this order: `graphassoc ls exporters` and "all" list them so).
from graphassoc.export import rdf, graphs, neo4j, pykeen, parquet  # noqa: E402,F401,I001

__all__ = ["EXPORTERS", "Exporter"]
