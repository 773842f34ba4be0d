"""Fixtures: the hand-made run directory of odd_run.py, fresh for every test (exports write into it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from odd_run import make_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run")


@pytest.fixture
def run_without_model(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run", with_model=False)
