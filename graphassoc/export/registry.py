"""The export formats, by name (`graphassoc ls exporters`).

An exporter is `fn(tables, out_dir, cfg) -> {file name: rows or triples written}`; it writes its
files into out_dir, a temporary directory that becomes the export only once every file is complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from graphassoc.registry import Registry

Exporter = Callable[..., dict[str, int]]
EXPORTERS: Registry[Exporter] = Registry("exporter")

# Importing the format modules registers them; they import EXPORTERS from here, defined above.
from graphassoc.export import graphs, neo4j, parquet, pykeen, rdf  # noqa: E402,F401

__all__ = ["EXPORTERS", "Exporter", "Path"]
