"""The export formats, by name (`graphassoc ls exporters`).

An exporter is `fn(tables, out_dir, cfg) -> {file name: rows or triples written}`; it writes its
files into out_dir, a temporary directory that becomes the export only once every file is complete.
"""

from __future__ import annotations

from typing import Callable

from graphassoc.registry import Registry

Exporter = Callable[..., dict[str, int]]
# Each format module registers its exporters on import; they are imported on the first lookup
# (in this order: `graphassoc ls exporters` and "all" list them so), as they import EXPORTERS.
EXPORTERS: Registry[Exporter] = Registry("exporter", modules=tuple(
    f"graphassoc.export.{name}" for name in ("rdf", "graphs", "neo4j", "pykeen", "parquet")))

__all__ = ["EXPORTERS", "Exporter"]
