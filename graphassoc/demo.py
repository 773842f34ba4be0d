"""The whole pipeline that exists, on the bundled fixture: what `graphassoc demo` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from graphassoc.config import load_config

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "online_retail_sample.parquet"


def run_demo(out: Path, log: Callable[[str], None] = print, seed: int = 0) -> Path:
    """build-graph on the fixture (UCI preset, time split), replacing `out` if it exists."""
    from graphassoc.pipeline import build_graph

    cfg = load_config("online_retail", [f"seed={seed}"])
    build_graph(cfg, FIXTURE, None, out, overwrite=True, progress=log)
    log(f"run directory: {out}")
    return out
