from pathlib import Path

import pytest

from graphassoc.errors import UsageError
from graphassoc.runs import atomic_dir, draw_seed, require_run


def test_failed_block_leaves_nothing(tmp_path: Path) -> None:
    final = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as tmp:
            (tmp / "half.parquet").write_text("x")
            raise RuntimeError("killed")
    assert not final.exists() and list(tmp_path.iterdir()) == []


def test_overwrite_replaces_only_when_complete(tmp_path: Path) -> None:
    final = tmp_path / "run"
    with atomic_dir(final) as tmp:
        (tmp / "a").write_text("old")
    with pytest.raises(UsageError, match="already exists"):
        with atomic_dir(final):
            pass
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(final, overwrite=True) as tmp:
            (tmp / "a").write_text("new")
            raise KeyboardInterrupt
    assert (final / "a").read_text() == "old"
    with atomic_dir(final, overwrite=True) as tmp:
        (tmp / "a").write_text("new")
    assert (final / "a").read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["run"]


def test_stale_partial_from_a_killed_run_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".run.partial-999"
    stale.mkdir()
    with atomic_dir(tmp_path / "run") as tmp:
        (tmp / "x").write_text("1")
    assert not stale.exists()


def test_require_run_and_seed(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        require_run(tmp_path / "nope")
    with pytest.raises(UsageError, match="lacks graph/edges.parquet"):
        require_run(tmp_path, "graph/edges.parquet")
    assert draw_seed(7) == 7 and 0 <= draw_seed(None) < 2**31
