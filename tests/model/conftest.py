"""Fixtures of the model tests: a tiny random BERT and a small hand-made run directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from model_fixtures import COLOURS, THINGS, make_run

from graphassoc.text.testing import save_tiny_bert


@pytest.fixture(scope="session")
def tiny_bert_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), COLOURS + THINGS)


@pytest.fixture(scope="session")
def tiny_run_template(tmp_path_factory: pytest.TempPathFactory, tiny_bert_model: Path) -> Path:
    return make_run(tmp_path_factory.mktemp("runs") / "tiny", tiny_bert_model)


@pytest.fixture
def tiny_run(tiny_run_template: Path, tmp_path: Path) -> Path:
    """A fresh copy per test: training writes into the run directory."""
    out = tmp_path / "run"
    shutil.copytree(tiny_run_template, out)
    return out


