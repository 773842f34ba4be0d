"""`export(run_dir, fmt)`: write a run's product graph in one format, or in every format ("all")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graphassoc.errors import UsageError
from graphassoc.export.config import ExportConfig
from graphassoc.export.registry import EXPORTERS
from graphassoc.export.tables import ExportTables, load_tables
from graphassoc.runs import Timings, atomic_dir, check_replaceable, update_meta, write_json

ALL = "all"
MANIFEST = "export.json"


@dataclass
class ExportResult:
    run_dir: Path
    config: ExportConfig
    # format -> folder written, and format -> {file name: rows, or triples for RDF}
    folders: dict[str, Path] = field(default_factory=dict)
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    # What was exported: products, co_purchase links, rules, single-item rule links, model links.
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)

    def manifest(self, fmt: str) -> dict[str, Any]:
        return {"format": fmt, "run_dir": str(self.run_dir), "files": self.files.get(fmt, {}),
                "counts": self.counts, "timings": self.timings.get(fmt, {}), "config": self.config.model_dump(mode="json")}

    def save(self, fmt: str, folder: Path) -> None:
        write_json(folder / MANIFEST, self.manifest(fmt))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["config"] = self.config.model_dump(mode="json")
        return out


def _targets(run_dir: Path, fmt: str, out: Path | None) -> dict[str, Path]:
    if fmt == ALL:
        base = Path(out) if out is not None else run_dir / "exports"
        return {name: base / name for name in EXPORTERS.names()}
    if fmt not in EXPORTERS:
        raise UsageError(f"unknown export format '{fmt}'; valid: {', '.join([*EXPORTERS.names(), ALL])}")
    return {fmt: Path(out) if out is not None else run_dir / "exports" / fmt}


def _counts(tables: ExportTables) -> dict[str, int]:
    return {"products": tables.items.height, "co_purchase": tables.count("co_purchase"),
            "rules": tables.rules.height, "rule_links": tables.count("rule"), "similar": tables.count("similar")}


def export(run_dir: str | Path, fmt: str, out: str | Path | None = None, cfg: ExportConfig | None = None,
           overwrite: bool = False) -> ExportResult:
    """Export the run's products, rules and links as `fmt` into `out` (default RUN_DIR/exports/<fmt>/).

    With fmt "all", each format goes to its own folder under `out` (default RUN_DIR/exports/).
    Each folder appears only once complete; an existing one is replaced only with overwrite=True.
    """
    run_dir = Path(run_dir)
    cfg = cfg or ExportConfig()
    targets = _targets(run_dir, fmt, Path(out) if out is not None else None)
    taken = [p for p in targets.values() if p.exists()]
    for folder in taken:  # checked for every format before anything is written
        check_replaceable(folder, "export")
    if taken and not overwrite:
        raise UsageError(f"'{taken[0]}' already exists; choose another --out or pass --overwrite")
    tables = load_tables(run_dir, cfg)
    result = ExportResult(run_dir=run_dir, config=cfg, counts=_counts(tables))
    timings = Timings()
    for name, target in targets.items():
        with atomic_dir(target, overwrite=overwrite, kind="export") as tmp:
            with timings.stage(name):
                result.files[name] = EXPORTERS.get(name)(tables, tmp, cfg)
            result.timings[name] = timings.stages[name]
            result.folders[name] = target
            result.save(name, tmp)
    update_meta(run_dir, timings={f"export.{name}": t for name, t in timings.stages.items()})
    return result
