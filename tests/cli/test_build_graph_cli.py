"""Bad input ends with one line, the right exit code, no traceback, and no run directory left behind."""

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from graphassoc.cli.main import app

runner = CliRunner()


def _run(args: list[str]):
    result = runner.invoke(app, args)
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    return result, text


def _assert_clean_failure(result, text: str, code: int, pattern: str, out: Path) -> None:
    assert result.exit_code == code, text
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert pattern in " ".join(text.split()), text
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.partial-*"))


def test_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r, t = _run(["build-graph", "-t", str(tmp_path / "none.csv"), "--out", str(out)])
    _assert_clean_failure(r, t, 2, "does not exist", out)


def test_unknown_format(tmp_path: Path) -> None:
    bad = tmp_path / "tx.xlsx"
    bad.write_text("x")
    out = tmp_path / "run"
    r, t = _run(["build-graph", "-t", str(bad), "--out", str(out)])
    _assert_clean_failure(r, t, 2, "unknown format '.xlsx'", out)


def test_missing_column_lists_found(tiny_transactions: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    r, t = _run(["build-graph", "-t", str(tiny_transactions), "--out", str(out), "--set", "data.preset=online_retail"])
    _assert_clean_failure(r, t, 1, "found: basket_id, item_id, timestamp, title, quantity", out)


def test_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    pl.DataFrame({"basket_id": ["1", "2"], "item_id": ["a", "b"], "price": ["cheap", "1.5"]}).write_csv(path)
    out = tmp_path / "run"
    r, t = _run(["build-graph", "-t", str(path), "--out", str(out)])
    _assert_clean_failure(r, t, 1, "should hold numbers", out)


def test_nothing_left_after_cleaning(tiny_transactions: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    r, t = _run(["build-graph", "-t", str(tiny_transactions), "--out", str(out), "--set", "clean.item_pattern=^zzz"])
    _assert_clean_failure(r, t, 1, "nothing left after cleaning", out)


@pytest.mark.parametrize("override,message", [
    ("mining.min_support=0", "mining.min_support"),
    ("mining.min_confidence=1.5", "mining.min_confidence"),
    ("graph.min_count=0", "graph.min_count"),
    ("mining.bogus=1", "unknown config key 'mining.bogus'; valid keys here: mining.engine"),
    ("nosuchsection.x=1", "unknown config key 'nosuchsection'"),
    ("mining.engine=nope", "unknown engine 'nope'"),
])
def test_bad_config(tiny_transactions: Path, tmp_path: Path, override: str, message: str) -> None:
    out = tmp_path / "run"
    r, t = _run(["build-graph", "-t", str(tiny_transactions), "--out", str(out), "--set", override])
    _assert_clean_failure(r, t, 2, message, out)


def test_existing_run_dir_is_not_overwritten(tiny_transactions: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r, t = _run(["build-graph", "-t", str(tiny_transactions), "--out", str(out)])
    assert r.exit_code == 2 and "already exists" in t
    assert (out / "keep.txt").read_text() == "mine"


def test_build_graph_writes_complete_run(tiny_transactions: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    r, t = _run(["build-graph", "-t", str(tiny_transactions), "--out", str(out),
                 "--set", "mining.min_support=0.2", "--set", "graph.min_count=1", "--set", "seed=3"])
    assert r.exit_code == 0, t
    for name in ["config.yaml", "meta.json", "quality.json", "baskets.parquet", "items.parquet", "itemsets.parquet",
                 "rules.parquet", "rules.png", "graph/nodes.parquet", "graph/edges.parquet"]:
        assert (out / name).is_file(), name
    import json

    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 3 and set(meta["timings"]) >= {"ingest", "clean", "mining", "graph"}
    assert meta["inputs"]["transactions"]["sha256"]
