import json
from pathlib import Path

import pytest

from graphassoc.errors import UsageError
from graphassoc.runs import MARKER, atomic_dir, atomic_file, draw_seed, made_by_us, require_run, write_json


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


def test_a_finished_directory_is_signed_with_its_kind(tmp_path: Path) -> None:
    with atomic_dir(tmp_path / "compare") as tmp:
        (tmp / "metrics.json").write_text("{}")
    with atomic_dir(tmp_path / "run", kind="run") as tmp:
        (tmp / "a").write_text("1")
    marker = json.loads((tmp_path / "run" / MARKER).read_text())
    assert marker["kind"] == "run" and marker["version"] and marker["created"].endswith("Z")
    assert made_by_us(tmp_path / "compare") == "compare" and made_by_us(tmp_path / "run") == "run"


def test_overwrite_refuses_what_the_package_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("x")
    with pytest.raises(UsageError, match=r"not made by graphassoc .*--out .*mine-2"):
        with atomic_dir(mine, overwrite=True, kind="run"):
            pass
    with atomic_dir(tmp_path / "kg", kind="export") as tmp:
        (tmp / "export.json").write_text("{}")
    with pytest.raises(UsageError, match=r"a graphassoc export directory \(not run\)"):
        with atomic_dir(tmp_path / "kg", overwrite=True, kind="run"):
            pass
    assert (mine / "thesis.txt").read_text() == "x" and (tmp_path / "kg" / "export.json").is_file()
    (tmp_path / "empty").mkdir()  # nothing to lose
    with atomic_dir(tmp_path / "empty", overwrite=True, kind="run") as tmp:
        (tmp / "a").write_text("1")
    assert made_by_us(tmp_path / "empty") == "run"


def test_a_run_from_before_the_marker_is_recognised(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for name in ("meta.json", "config.yaml"):
        (old / name).write_text("{}")
    assert made_by_us(old) is None  # without baskets.parquet it could be anyone's folder
    (old / "baskets.parquet").write_text("x")
    assert made_by_us(old) == "run"
    with atomic_dir(old, overwrite=True, kind="run") as tmp:
        (tmp / "a").write_text("new")
    assert (old / "a").read_text() == "new" and not (old / "meta.json").exists()


def test_atomic_file_keeps_the_old_file_when_the_write_fails(tmp_path: Path) -> None:
    path = tmp_path / "recs.jsonl"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_file(path) as tmp:
            assert tmp.suffix == ".jsonl" and tmp.parent == tmp_path
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["recs.jsonl"]
    write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1} and [p.name for p in tmp_path.iterdir()] == ["recs.jsonl"]
