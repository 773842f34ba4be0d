"""The run directory: atomic creation, artifacts, metadata (seed, versions, fingerprints, timings)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import resource
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import polars as pl

from graphassoc.errors import UsageError

PARTIAL = ".partial-"
VERSIONED = ["graphassoc", "polars", "numpy", "scipy", "mlxtend", "pyfim", "torch", "torch-geometric",
             "transformers", "networkx", "rdflib"]


def draw_seed(seed: int | None) -> int:
    return int(seed) if seed is not None else random.SystemRandom().randrange(2**31 - 1)


def seed_everything(seed: int, with_torch: bool = True) -> None:
    """Seed random, numpy and (with_torch) torch; build-graph, which never uses torch, skips
    its import (seconds, and hundreds of MB)."""
    random.seed(seed)
    np.random.seed(seed)
    if not with_torch:
        return
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # torch is only needed from the train stage on
        pass


def package_versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def fingerprint(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def peak_rss_mb() -> float:
    # ru_maxrss is the process's peak so far (KiB on Linux): at a stage's end it bounds that stage.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def write_parquet(path: Path, df: pl.DataFrame) -> None:
    tmp = path.with_name(path.name + ".tmp")
    df.write_parquet(tmp)
    os.replace(tmp, path)


@dataclass
class Timings:
    """Wall time and peak memory per stage, for meta.json's `timings`."""

    stages: dict[str, dict[str, float]] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.stages[name] = {"seconds": round(time.perf_counter() - start, 3), "peak_rss_mb": peak_rss_mb()}


@contextlib.contextmanager
def atomic_dir(final: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a hidden sibling directory to fill; it becomes `final` only if the block succeeds.

    An interrupted or failed run leaves no directory that looks complete (a stale `.partial-*`
    sibling at most, removed on the next run). With overwrite, the old directory is replaced only
    after the new one is complete.
    """
    final = Path(final)
    if final.exists() and not overwrite:
        raise UsageError(f"'{final}' already exists; choose another --out or pass --overwrite")
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}{PARTIAL}*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = final.parent / f".{final.name}{PARTIAL}{os.getpid()}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        old = final.parent / f".{final.name}{PARTIAL}old-{os.getpid()}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def require_run(run_dir: Path, *needed: str) -> Path:
    """Check that a run directory holds the artifacts a stage reads; one clear line when it does not."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"run directory '{run_dir}' does not exist; create it with `graphassoc build-graph --out {run_dir}`")
    missing = [n for n in needed if not (run_dir / n).exists()]
    if missing:
        raise UsageError(f"run directory '{run_dir}' lacks {', '.join(missing)}; "
                         f"rerun `graphassoc build-graph --out {run_dir} --overwrite`")
    return run_dir


def read_meta(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "meta.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def update_meta(run_dir: Path, **sections: Any) -> None:
    """Merge sections into meta.json (later stages add their timings)."""
    meta = read_meta(run_dir)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(meta.get(key), dict):
            meta[key] = {**meta[key], **value}
        else:
            meta[key] = value
    write_json(Path(run_dir) / "meta.json", meta)


class Run:
    """Read access to a run directory's artifacts (the documented layout of GUIDE.md section 3)."""

    def __init__(self, path: str | Path, *needed: str) -> None:
        self.path = require_run(Path(path), "config.yaml", *needed)

    @property
    def config(self):  # -> graphassoc.config.Config
        import yaml

        from graphassoc.config import Config

        return Config.model_validate(yaml.safe_load((self.path / "config.yaml").read_text()))

    @property
    def meta(self) -> dict[str, Any]:
        return read_meta(self.path)

    def _table(self, name: str) -> pl.DataFrame:
        require_run(self.path, name)
        return pl.read_parquet(self.path / name)

    def baskets(self) -> pl.DataFrame:
        return self._table("baskets.parquet")

    def items(self) -> pl.DataFrame:
        return self._table("items.parquet")

    def itemsets(self) -> pl.DataFrame:
        return self._table("itemsets.parquet")

    def rules(self) -> pl.DataFrame:
        return self._table("rules.parquet")

    def nodes(self) -> pl.DataFrame:
        return self._table("graph/nodes.parquet")

    def edges(self) -> pl.DataFrame:
        return self._table("graph/edges.parquet")
