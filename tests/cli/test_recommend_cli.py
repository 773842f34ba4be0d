"""`graphassoc recommend` through the CLI: people's table, --json, --batch, and bad input (one line, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from graphassoc.cli.main import app

runner = CliRunner()


def _run(args: list[str]):
    result = runner.invoke(app, ["recommend", *[str(a) for a in args]])
    return result, result.stdout, result.stderr


def _assert_one_line_failure(result, stderr: str, code: int, pattern: str) -> None:
    assert result.exit_code == code, (result.stdout, stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in stderr and "Traceback" not in result.stdout
    assert len([line for line in stderr.splitlines() if line.strip()]) == 1, stderr
    assert pattern in " ".join(stderr.split()), stderr


@pytest.fixture(scope="module")
def popular(fixture_run: Path) -> list[str]:
    items = pl.read_parquet(fixture_run / "items.parquet").sort("popularity", descending=True)
    return items["item_id"].to_list()[:3]


def test_item_json(fixture_run: Path, popular: list[str]) -> None:
    result, out, err = _run([fixture_run, "--item", popular[0], "-k", 4, "--method", "cooccurrence", "--json"])
    assert result.exit_code == 0, err
    doc = json.loads(out)
    assert doc["method"] == "cooccurrence" and doc["query"] == {"item": popular[0]}
    assert [r["rank"] for r in doc["items"]] == [1, 2, 3, 4]
    assert popular[0] not in [r["item_id"] for r in doc["items"]]
    first = doc["items"][0]
    assert set(first["evidence"]) == {"ranker", "rule", "copurchase_count", "copurchased_with", "text_similarity", "similar_to"}


def test_basket_table_for_people(fixture_run: Path, popular: list[str]) -> None:
    # Both spellings: --basket A B and --basket A --basket B.
    a, _, _ = _run([fixture_run, "--basket", popular[0], popular[1], "-k", 3, "--method", "cooccurrence"])
    b, out, err = _run([fixture_run, "--basket", popular[0], "--basket", popular[1], "-k", 3, "--method", "cooccurrence"])
    assert a.exit_code == b.exit_code == 0, err
    assert a.stdout == out
    titles = pl.read_parquet(fixture_run / "items.parquet")
    doc = json.loads(_run([fixture_run, "--basket", popular[0], popular[1], "-k", 3, "-m", "cooccurrence", "--json"])[1])
    for rec in doc["items"]:
        assert rec["item_id"] in out
        assert titles.filter(pl.col("item_id") == rec["item_id"])["title"][0].strip() in out
    for column in ("best rule", "conf", "lift", "co-bought", "text sim", "ranker"):
        assert column in out


def test_batch(tmp_path: Path, fixture_run: Path, popular: list[str]) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join([
        json.dumps({"id": "q1", "basket": popular[:2]}),
        '{"id": "q2", "basket": [',
        json.dumps({"id": "q3", "basket": ["NOT-AN-ITEM"]}),
        json.dumps({"id": "q4", "basket": [popular[2]]}),
    ]) + "\n")
    out = tmp_path / "recs.jsonl"
    result, stdout, err = _run([fixture_run, "--batch", queries, "--out", out, "-k", 5, "--method", "cooccurrence"])
    assert result.exit_code == 0, err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["q1", None, "q3", "q4"]  # a line that is not JSON has no readable id
    assert "line 2:" in err and "line 3:" in err and "unknown item id 'NOT-AN-ITEM'" in err
    assert lines[1]["line"] == 2 and "error" in lines[1] and "error" in lines[2]
    for ok, query in [(lines[0], popular[:2]), (lines[3], popular[2:])]:
        assert set(ok) == {"id", "items", "scores"} and len(ok["items"]) == 5
        assert not set(ok["items"]) & set(query)
        assert ok["scores"] == sorted(ok["scores"], reverse=True) and np.isfinite(ok["scores"]).all()
    again, _, err = _run([fixture_run, "--batch", queries, "--out", out])
    _assert_one_line_failure(again, err, 2, "already exists")


# -- bad input: one line, non-zero exit, no traceback ----------------------------------------------


def test_unknown_item_suggests_close_ids_and_text_search(fixture_run: Path, popular: list[str]) -> None:
    result, _, err = _run([fixture_run, "--item", popular[0] + "Z", "-m", "cooccurrence"])
    _assert_one_line_failure(result, err, 2, f"unknown item id '{popular[0]}Z'")
    assert popular[0] in err and "--text" in err


def test_empty_basket(fixture_run: Path) -> None:
    result, _, err = _run([fixture_run, "--basket", "", "-m", "cooccurrence"])
    _assert_one_line_failure(result, err, 2, "empty basket")


def test_method_needing_a_model_on_a_run_without_one(fixture_run: Path) -> None:
    result, _, err = _run([fixture_run, "--item", "x", "--method", "model"])
    _assert_one_line_failure(result, err, 1, "needs a trained model")
    result, _, err = _run([fixture_run, "--item", "x", "--method", "model-joint"])
    _assert_one_line_failure(result, err, 1, "graphassoc train")


def test_unknown_method(fixture_run: Path) -> None:
    result, _, err = _run([fixture_run, "--item", "x", "--method", "magic"])
    _assert_one_line_failure(result, err, 2, "unknown ranker 'magic'; valid:")


def test_missing_run_dir(tmp_path: Path) -> None:
    result, _, err = _run([tmp_path / "nope", "--item", "x"])
    _assert_one_line_failure(result, err, 2, "does not exist")


def test_argument_combinations(tmp_path: Path, fixture_run: Path) -> None:
    cases = [([fixture_run], "give exactly one of"),
             ([fixture_run, "--item", "a", "--text", "b"], "got --item, --text"),
             ([fixture_run, "--batch", tmp_path / "q.jsonl"], "--batch needs --out"),
             ([fixture_run, "--item", "a", "--out", tmp_path / "o.jsonl"], "--out is for --batch"),
             ([fixture_run, "--batch", tmp_path / "missing.jsonl", "--out", tmp_path / "o.jsonl"], "does not exist"),
             ([fixture_run, "stray", "--item", "a"], "unexpected argument")]
    for args, pattern in cases:
        result, _, err = _run(args)
        _assert_one_line_failure(result, err, 2, pattern)
    assert not (tmp_path / "o.jsonl").exists()


def test_text_search_json(fixture_run: Path) -> None:
    result, out, err = _run([fixture_run, "--text", "jumbo bag red retrospot", "-k", 3, "-m", "cooccurrence", "--json"])
    assert result.exit_code == 0, err
    doc = json.loads(out)
    assert doc["query"] == {"text": "jumbo bag red retrospot"} and len(doc["items"]) == 3
    assert "BAG" in doc["items"][0]["title"]
    assert all(r["evidence"]["text_similarity"] is not None for r in doc["items"])
