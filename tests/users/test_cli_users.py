"""profile / audience / groups / bundles / recommend --user through the CLI, and their bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from graphassoc.cli.main import app

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result, result.stdout, result.stderr


def one_line_failure(result, stderr: str, pattern: str) -> None:
    assert result.exit_code == 1, (result.stdout, stderr)
    assert "Traceback" not in stderr + result.stdout
    assert len([line for line in stderr.splitlines() if line.strip()]) == 1, stderr
    assert pattern in " ".join(stderr.split()), stderr


def a_user(run: Path) -> str:
    b = pl.read_parquet(run / "baskets.parquet").filter(pl.col("split") == "train")
    return b.group_by("user_id").len().sort(["len", "user_id"], descending=True)["user_id"][0]


def test_profile_keys_by_salted_hash_and_never_stores_the_raw_id(user_run: Path):
    user = a_user(user_run)
    result, out, err = invoke("profile", user_run, user, "--json")
    assert result.exit_code == 0, err
    profile = json.loads(out)
    train = pl.read_parquet(user_run / "baskets.parquet").filter(pl.col("split") == "train", pl.col("user_id") == user)
    assert profile["baskets"] == train.height
    table = pl.read_parquet(user_run / "users.parquet")
    assert "user_id" not in table.columns
    raw = set(pl.read_parquet(user_run / "baskets.parquet")["user_id"].drop_nulls().to_list())
    assert not raw & set(table["user_key"].to_list())
    # repeat rate by brute force: lines whose item the customer bought in an earlier basket
    seen: set[str] = set()
    lines = repeats = 0
    for items in train.sort("timestamp")["items"].to_list():
        lines += len(items)
        repeats += sum(i in seen for i in items)
        seen.update(items)
    assert abs(profile["repeat_rate"] - repeats / lines) < 1e-9


def test_unknown_user_is_one_line_exit_1_and_writes_nothing(user_run: Path, tmp_path: Path):
    copy = tmp_path / "run"
    shutil.copytree(user_run, copy, ignore=shutil.ignore_patterns("users.parquet", "users"))
    result, _, err = invoke("profile", copy, "no-such-user")
    one_line_failure(result, err, "no train baskets")
    assert not (copy / "users.parquet").exists()
    result, _, err = invoke("recommend", copy, "--user", "no-such-user", "--method", "ease")
    one_line_failure(result, err, "unknown user 'no-such-user'")


def test_a_run_without_user_ids_says_so(user_run: Path, tmp_path: Path):
    copy = tmp_path / "run"
    shutil.copytree(user_run, copy)
    b = pl.read_parquet(copy / "baskets.parquet").with_columns(pl.lit(None, pl.Utf8).alias("user_id"))
    b.write_parquet(copy / "baskets.parquet")
    result, _, err = invoke("profile", copy, "u1")
    one_line_failure(result, err, "has no user ids")


def test_recommend_user_and_batch_user_lines(user_run: Path, tmp_path: Path):
    user = a_user(user_run)
    result, out, err = invoke("recommend", user_run, "--user", user, "--basket", "c0", "-k", "5", "--method", "ease", "--json")
    assert result.exit_code == 0, err
    doc = json.loads(out)
    assert len(doc["items"]) == 5 and "c0" not in [r["item_id"] for r in doc["items"]]
    assert any("bought by this customer before" in r["evidence"]["ranker"] for r in doc["items"])
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": 1, "basket": ["c0"]}) + "\n"
                       + json.dumps({"id": 2, "basket": ["c0"], "user_id": user}) + "\n"
                       + json.dumps({"id": 3, "basket": [], "user_id": "stranger"}) + "\n")
    out_path = tmp_path / "recs.jsonl"
    result, _, err = invoke("recommend", user_run, "--batch", queries, "--out", out_path, "--method", "ease", "-k", "5")
    assert result.exit_code == 0, err
    lines = [json.loads(x) for x in out_path.read_text().splitlines()]
    assert "personal" not in lines[0] and lines[1]["personal"] is True and lines[2]["personal"] is False
    assert len(lines[1]["items"]) == 5


def test_audience_groups_bundles(user_run: Path, tmp_path: Path):
    result, out, err = invoke("audience", user_run, "c0", "-k", "3", "--json")
    assert result.exit_code == 0, err
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == 3 and all(len(r["user_key"]) == 20 for r in rows)
    result, _, err = invoke("audience", user_run, "nope")
    one_line_failure(result, err, "unknown item id 'nope'")
    copy = tmp_path / "run"
    shutil.copytree(user_run, copy, ignore=shutil.ignore_patterns("groups"))
    result, out, err = invoke("groups", copy, "--set", "users.groups_min_count=1")
    assert result.exit_code == 0, err
    members = pl.read_parquet(copy / "groups" / "members.parquet")
    assert members["item_id"].is_unique().all() and (copy / "groups" / "groups.png").is_file()
    groups = pl.read_parquet(copy / "groups" / "groups.parquet")
    assert groups["size"].sum() == members.height
    result, out, err = invoke("bundles", user_run, "-k", "3", "--no-completion", "--set", "users.bundles_min_count=5", "--json")
    assert result.exit_code == 0, err
    bundles = [json.loads(x) for x in out.splitlines()]
    baskets = pl.read_parquet(user_run / "baskets.parquet").filter(pl.col("split") == "train")["items"].to_list()
    for b in bundles:  # count and lift by brute force over the train baskets
        count = sum(set(b["items"]) <= set(x) for x in baskets)
        assert b["count"] == count >= 5
        expected = len(baskets) * float(__import__("numpy").prod([sum(i in x for x in baskets) / len(baskets) for i in b["items"]]))
        assert abs(b["lift"] - count / expected) < 0.1
