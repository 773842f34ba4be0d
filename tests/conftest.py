"""Shared fixtures: the bundled real fixture, small hand-made transaction files, a built run directory."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "data" / "fixtures" / "online_retail_sample.parquet"


@pytest.fixture(scope="session")
def fixture_path() -> Path:
    return FIXTURE


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture through build-graph with the demo config (built once per test session)."""
    from graphassoc.demo import demo_config
    from graphassoc.pipeline import build_graph

    out = tmp_path_factory.mktemp("runs") / "fixture"
    build_graph(demo_config(seed=0), FIXTURE, None, out)
    return out


@pytest.fixture
def tiny_transactions(tmp_path: Path) -> Path:
    """Canonical-schema CSV: 5 baskets over 4 items, one cancellation, timestamps over 5 days."""
    df = pl.DataFrame({
        "basket_id": ["b1", "b1", "b2", "b2", "b2", "b3", "b3", "C4", "b5", "b5"],
        "item_id": ["a", "b", "a", "b", "c", "a", "c", "a", "b", "d"],
        "timestamp": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-02",
                      "2024-01-03", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-05"],
        "title": ["Apple", "Banana", "Apple", "Banana", "Cherry", "Apple", "Cherry", "Apple", "Banana", "Date"],
        "quantity": [1, 2, 1, 1, 1, 3, 1, -1, 1, 1],
    })
    path = tmp_path / "tx.csv"
    df.write_csv(path)
    return path
