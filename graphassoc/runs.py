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
# Written into every directory the package makes as a whole: --overwrite replaces only those.
MARKER = ".graphassoc"
# What directories of each kind held before the marker existed: recognised as the package's own.
LEGACY: dict[str, list[tuple[str, ...]]] = {
    "run": [("meta.json", "config.yaml", "baskets.parquet")],
    "compare": [("metrics.json", "report.html")],
    "export": [("export.json",)],
    "tune": [("results.csv",)],
    "model": [("config.json", "model.safetensors"), ("model-best",), ("model-last",), ("state.json",)],
}
VERSIONED = ["graphassoc", "polars", "numpy", "scipy", "mlxtend", "pyfim", "torch", "torch-geometric",
             "transformers", "networkx", "rdflib"]


def draw_seed(seed: int | None) -> int:
    return int(seed) if seed is not None else random.SystemRandom().randrange(2**31 - 1)


def first_seed(*seeds: int | None) -> int:
    """The first seed that is set, else 0: a stage's own seed before the run's (e.g. evaluate.seed, seed)."""
    return next((int(s) for s in seeds if s is not None), 0)


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


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a hidden temp sibling of `path` to write; it becomes `path` only if the block succeeds.

    The temp name keeps the suffix (numpy and matplotlib pick the format from it). A failed or
    killed write leaves `path` as it was: never truncated, never half-written.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"'{path}' is a directory; give a file path, e.g. '{path / ('out' + path.suffix)}'")
    tmp = path.with_name(f".{path.stem}{PARTIAL}{os.getpid()}{path.suffix}")
    try:
        tmp.touch()
    except OSError as err:
        raise UsageError(f"cannot write '{path}' ({err.strerror}); choose a location you can write to") from None
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def write_parquet(path: Path, df: pl.DataFrame) -> None:
    with atomic_file(path) as tmp:
        df.write_parquet(tmp)


@dataclass
class Timings:
    """Wall time and peak memory per stage, for meta.json's `timings`."""

    stages: dict[str, dict[str, float]] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.stages[name] = {"seconds": round(time.perf_counter() - start, 3), "peak_rss_mb": peak_rss_mb()}


def write_marker(directory: Path, kind: str) -> None:
    """Sign a directory the package made as a whole, so that --overwrite may later replace it."""
    version = None
    with contextlib.suppress(metadata.PackageNotFoundError):  # run from a source tree, not installed
        version = metadata.version("graphassoc")
    write_json(Path(directory) / MARKER, {"kind": kind, "version": version,
                                          "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def made_by_us(directory: Path) -> str | None:
    """The kind of graphassoc directory this is (run, compare, export, model...), or None if it is not one."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    with contextlib.suppress(OSError, ValueError, AttributeError, KeyError, TypeError):
        return str(json.loads((directory / MARKER).read_text())["kind"])
    return next((kind for kind in LEGACY if looks_like(directory, kind)), None)  # made before the marker


def looks_like(directory: Path, kind: str) -> bool:
    """Whether the directory holds what a `kind` directory holds (LEGACY), whatever its marker says."""
    return any(all((Path(directory) / name).exists() for name in files) for files in LEGACY.get(kind, []))


def check_replaceable(final: Path, kind: str) -> None:
    """Refuse, in one line, to replace a directory the package did not make as a `kind` (user data)."""
    found = made_by_us(final)
    if found == kind or looks_like(final, kind) or (final.is_dir() and not any(final.iterdir())):  # or empty
        return
    what = f"a graphassoc {found} directory (not {kind})" if found else (
        "not a directory" if not final.is_dir() else f"not made by graphassoc (it has no {MARKER} marker)")
    raise UsageError(f"'{final}' already exists and is {what}: graphassoc replaces only what it made, even with "
                     f"--overwrite; choose a new --out, e.g. --out {free_name(final)}")


def free_name(path: Path) -> Path:
    """The first of PATH-2, PATH-3, ... that does not exist: a --out to suggest."""
    return next(p for i in range(2, 10**6) if not (p := path.with_name(f"{path.name}-{i}")).exists())


def replace_dir(tmp: Path, final: Path, kind: str | None = None) -> None:
    """Sign the complete directory `tmp` and move it to `final`; an old `final` goes only once the new one is there."""
    write_marker(tmp, kind or final.name)
    if final.exists():
        old = final.parent / f".{final.name}{PARTIAL}old-{os.getpid()}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


@contextlib.contextmanager
def atomic_dir(final: Path, overwrite: bool = False, kind: str | None = None) -> Iterator[Path]:
    """Yield a hidden sibling directory to fill; it becomes `final` only if the block succeeds.

    An interrupted or failed run leaves no directory that looks complete (a stale `.partial-*`
    sibling at most, removed on the next run). With overwrite, the old directory is replaced only
    after the new one is complete, and only if the package made it as a `kind` directory (default:
    final's name, e.g. compare, tune): never a user's own folder.
    """
    final = Path(final)
    kind = kind or final.name
    if final.exists():
        check_replaceable(final, kind)
        if not overwrite:
            raise UsageError(f"'{final}' already exists; choose another --out or pass --overwrite")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        for stale in final.parent.glob(f".{final.name}{PARTIAL}*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = final.parent / f".{final.name}{PARTIAL}{os.getpid()}"
        tmp.mkdir()
    except OSError as err:
        raise UsageError(f"cannot create '{final}' ({err.strerror}: '{err.filename}'); "
                         "choose a location in a folder you can write to") from None
    try:
        yield tmp
        replace_dir(tmp, final, kind)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def require_run(run_dir: Path, *needed: str) -> Path:
    """Check that a run directory holds the artifacts a stage reads; one clear line when it does not."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"run directory '{run_dir}' does not exist; create it with `graphassoc build-graph --out {run_dir}`")
    missing = [n for n in needed if not (run_dir / n).exists()]
    if missing and made_by_us(run_dir) != "run" and not looks_like(run_dir, "run"):  # never advise --overwrite on a folder that is not a run
        raise UsageError(f"'{run_dir}' is not a run directory (it lacks {', '.join(missing)}); make one with "
                         f"`graphassoc build-graph -t TRANSACTIONS --out {free_name(run_dir)}` and pass that")
    if missing:
        raise UsageError(f"run directory '{run_dir}' lacks {', '.join(missing)}; "
                         f"rebuild it with `graphassoc build-graph -t TRANSACTIONS --out {run_dir} --overwrite`")
    return run_dir


def trained_modes(run_dir: str | Path) -> list[str]:
    """The models trained in a run: the subdirectories of RUN/model/ (frozen, two-stage, joint, no-text ...)."""
    root = Path(run_dir) / "model"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


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
        from graphassoc.config import RUN_CONFIG_FIX, Config, read_yaml

        return Config.model_validate(read_yaml(self.path / "config.yaml", "run config", RUN_CONFIG_FIX))

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
