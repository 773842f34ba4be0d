"""A served copy of the fixture run (co-occurrence ranker, a tiny random BERT for text search), on a
real uvicorn server on a free loopback port."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import polars as pl
import pytest
import yaml

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("prometheus_client")

METHOD = "cooccurrence"  # the ranker with a brute-force reference (tests/recommend/test_service.py)


def copy_run(src: Path, dst: Path, **config_updates: dict) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("recommend", "model", "compare", "exports", "text"))
    config = yaml.safe_load((dst / "config.yaml").read_text())
    for section, values in config_updates.items():
        config[section].update(values)
    (dst / "config.yaml").write_text(yaml.safe_dump(config))
    return dst


@pytest.fixture(scope="session")
def served_run(fixture_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from graphassoc.text.testing import save_tiny_bert

    root = tmp_path_factory.mktemp("served")
    titles = pl.read_parquet(fixture_run / "items.parquet")["title"].drop_nulls().to_list()
    words = sorted({w for t in titles for w in t.lower().split()})
    bert = save_tiny_bert(root / "bert", words)
    return copy_run(fixture_run, root / "run", text={"model": str(bert)})


@pytest.fixture(scope="module")
def server(served_run: Path) -> Iterator[str]:
    from graphassoc.serve.app import create_app
    from graphassoc.serve.config import ServeConfig
    from graphassoc.serve.testing import running_server

    with running_server(create_app(served_run, ServeConfig(methods=[METHOD], max_basket=20, max_k=50))) as url:
        yield url
