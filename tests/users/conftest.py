"""A tiny run with user ids (tests/evaluate/tiny_run.py: 40 customers, time split), built once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "evaluate"))


@pytest.fixture(scope="session")
def user_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_run import build_tiny_run

    return build_tiny_run(tmp_path_factory.mktemp("users"), **{"evaluate.rankers": "[popularity, ease]",
                                                                "evaluate.draws": "1", "users.rerank_draws": "2"})
