from __future__ import annotations

from pathlib import Path

import pytest

from graphassoc.text.testing import save_tiny_bert

WORDS = ["white", "red", "heart", "bag", "jumbo", "holder", "light", "cake", "stand", "tier", "mug", "lunch", "box"]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), WORDS)
