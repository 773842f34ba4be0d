"""Hostile input and faults (issue 11): one line on stderr, the right exit code, no traceback, and the
user's files byte-identical afterwards. Each test is one case of the probe."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from graphassoc.cli.main import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from model_fixtures import COLOURS, FAST, THINGS, make_run  # noqa: E402

runner = CliRunner()


def cli(*args: object):
    result = runner.invoke(app, [str(a) for a in args])
    return result, result.stdout, result.stderr


def one_line_failure(result, stderr: str, code: int, *patterns: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in stderr + result.stdout
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    flat = " ".join(stderr.split())
    for pattern in patterns:
        assert pattern in flat, flat
    return flat


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """A user's own folder, as in the probe: `mkdir precious; echo x > precious/thesis.txt`."""
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "thesis.txt").write_text("x\n")
    (folder / "notes").mkdir()
    (folder / "notes" / "a.md").write_text("draft\n")
    return folder


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A folder nobody may create anything in (root ignores permission bits, but not /sys)."""
    if os.geteuid() == 0:
        if not Path("/sys").is_dir():
            pytest.skip("no /sys to stand for a read-only folder")
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.fixture
def run_copy(fixture_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(fixture_run, tmp_path / "run"))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run with a tiny BERT and one trained mode (frozen), for the corrupt-model cases."""
    from graphassoc.config import load_config
    from graphassoc.model import train
    from graphassoc.text.testing import save_tiny_bert

    bert = save_tiny_bert(tmp_path_factory.mktemp("bert"), COLOURS + THINGS)
    run = make_run(tmp_path_factory.mktemp("trained") / "run", bert)
    import yaml

    from graphassoc.mining import mine

    cfg = load_config(None, FAST + ["train.epochs=1", "mining.min_support=0.02"],
                      base=yaml.safe_load((run / "config.yaml").read_text()))
    baskets = pl.read_parquet(run / "baskets.parquet").filter(pl.col("split") == "train")
    mine(baskets["items"], cfg.mining).save(run)  # recommend reads the rules for its evidence
    train(run, cfg)
    return run


# -- 1. --overwrite replaces only what graphassoc made ----------------------------------------------


def test_build_graph_overwrite_refuses_a_users_folder(precious: Path, tiny_transactions: Path) -> None:
    before = snapshot(precious)
    result, _, err = cli("build-graph", "-t", tiny_transactions, "--out", precious, "--overwrite")
    one_line_failure(result, err, 2, f"'{precious}' already exists and is not made by graphassoc",
                     f"--out {precious.parent / 'precious-2'}")
    assert snapshot(precious) == before
    assert [p.name for p in precious.parent.iterdir() if p.name.startswith(".precious")] == []


def test_export_overwrite_refuses_a_users_folder_and_a_run(precious: Path, run_copy: Path, tmp_path: Path) -> None:
    before = snapshot(precious)
    result, _, err = cli("export", run_copy, "--format", "parquet", "--out", precious, "--overwrite")
    one_line_failure(result, err, 2, "is not made by graphassoc", "choose a new --out")
    assert snapshot(precious) == before
    other = Path(shutil.copytree(run_copy, tmp_path / "other"))
    run_files = snapshot(other)
    result, _, err = cli("export", run_copy, "--format", "parquet", "--out", other, "--overwrite")
    one_line_failure(result, err, 2, "is a graphassoc run directory (not export)")
    assert snapshot(other) == run_files


def test_overwrite_replaces_its_own_export(run_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "kg"
    assert cli("export", run_copy, "--format", "parquet", "--out", out)[0].exit_code == 0
    assert json.loads((out / ".graphassoc").read_text())["kind"] == "export"
    result, _, err = cli("export", run_copy, "--format", "parquet", "--out", out, "--overwrite")
    assert result.exit_code == 0, err


def test_train_on_a_folder_that_is_not_a_run_never_advises_overwrite(precious: Path) -> None:
    before = snapshot(precious)
    result, _, err = cli("train", precious)
    flat = one_line_failure(result, err, 2, f"'{precious}' is not a run directory",
                            f"graphassoc build-graph -t TRANSACTIONS --out {precious.parent / 'precious-2'}")
    assert "--overwrite" not in flat
    assert snapshot(precious) == before


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden"])
def test_train_name_must_be_a_plain_folder_name(fixture_run: Path, name: str) -> None:
    before = snapshot(fixture_run.parent)
    result, _, err = cli("train", fixture_run, "--set", f"train.name={name}", "--overwrite")
    one_line_failure(result, err, 2, "config key 'train.name': must be a plain folder name")
    assert snapshot(fixture_run.parent) == before


# -- 2. a failed batch never truncates or blocks -----------------------------------------------------


@pytest.mark.parametrize("overwrite", [True, False])
def test_an_empty_batch_leaves_the_old_output_and_no_new_one(fixture_run: Path, tmp_path: Path, overwrite: bool) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    out = tmp_path / "recs.jsonl"
    if overwrite:
        out.write_text('{"id": "q1", "items": ["a"], "scores": [1.0]}\n')
    before = snapshot(tmp_path)
    result, _, err = cli("recommend", fixture_run, "--batch", empty, "--out", out, "-m", "cooccurrence",
                         *(["--overwrite"] if overwrite else []))
    one_line_failure(result, err, 1, "holds no queries")
    assert snapshot(tmp_path) == before  # old output byte-identical, or still absent: a retry is not blocked


def test_an_all_bad_batch_writes_nothing(fixture_run: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "q1", "basket": ["NOT-AN-ITEM"]}) + "\n")
    out = tmp_path / "recs.jsonl"
    out.write_text("earlier results\n")
    before = snapshot(tmp_path)
    result, _, err = cli("recommend", fixture_run, "--batch", bad, "--out", out, "-m", "cooccurrence", "--overwrite")
    assert result.exit_code == 1 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: none of the 1 queries") and "unknown item id 'NOT-AN-ITEM'" in " ".join(err.split())
    assert snapshot(tmp_path) == before


def test_batch_out_that_is_a_directory(fixture_run: Path, tmp_path: Path, precious: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "basket": ["x"]}) + "\n")
    before = snapshot(precious)
    result, _, err = cli("recommend", fixture_run, "--batch", queries, "--out", precious, "--overwrite")
    one_line_failure(result, err, 2, "is a directory", f"--out {precious / 'recs.jsonl'}")
    assert snapshot(precious) == before
    result, _, err = cli("recommend", fixture_run, "--batch", queries, "--out", precious / "thesis.txt" / "recs.jsonl")
    one_line_failure(result, err, 2, f"the folder of --out, '{precious / 'thesis.txt'}', is a file")
    assert snapshot(precious) == before


# -- 5. corrupt files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "random"])
def test_recommend_and_compare_with_a_corrupt_model(trained_run: Path, tmp_path: Path, damage: str) -> None:
    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    weights = run / "model" / "frozen" / "model-best" / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncated" else os.urandom(len(data)))
    result, _, err = cli("recommend", run, "--item", "R0", "--method", "model-frozen")
    one_line_failure(result, err, 1, "model.safetensors' is truncated or corrupt",
                     f"graphassoc train {run} --mode frozen --overwrite")
    # `--method model` picks the best trained mode: the only one is corrupt, so it fails; never text in its place.
    result, _, err = cli("recommend", run, "--item", "R0", "--method", "model")
    one_line_failure(result, err, 1, "model.safetensors' is truncated or corrupt")
    result, _, err = cli("compare", run, "--set", "evaluate.rankers=[popularity, model]")
    assert result.exit_code == 0, err
    assert "skipped model-frozen" in " ".join(err.split()) and "truncated or corrupt" in " ".join(err.split())
    assert "model-frozen" not in json.loads((run / "compare" / "metrics.json").read_text())["metrics"]


def test_a_corrupt_model_config_is_one_line(trained_run: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    config = run / "model" / "frozen" / "model-best" / "config.json"
    config.write_bytes(config.read_bytes()[:40])
    result, _, err = cli("recommend", run, "--item", "R0", "--method", "model-frozen")
    one_line_failure(result, err, 1, "config.json' is corrupt")


@pytest.mark.parametrize("command", [("compare",), ("recommend", "--item", "R0", "-m", "cooccurrence"),
                                     ("export", "--format", "parquet")])
def test_a_corrupt_run_config_is_one_line_naming_it(run_copy: Path, command: tuple[str, ...]) -> None:
    (run_copy / "config.yaml").write_text("mining: [not, a, mapping\n")
    before = snapshot(run_copy)
    result, _, err = cli(command[0], run_copy, *command[1:])
    one_line_failure(result, err, 2, f"run config '{run_copy / 'config.yaml'}' is not valid YAML", "build-graph")
    assert snapshot(run_copy) == before


def test_a_truncated_embedding_cache_is_encoded_again(trained_run: Path, tmp_path: Path) -> None:
    import numpy as np

    from graphassoc.runs import Run
    from graphassoc.text.encoder import item_embeddings

    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    cfg = Run(run).config.text
    fresh = item_embeddings(run, cfg)
    (cache,) = (run / "text").glob("embeddings-*.npy")
    cache.write_bytes(cache.read_bytes()[:200])
    again = item_embeddings(run, cfg)
    np.testing.assert_allclose(again, fresh, rtol=1e-6)
    np.testing.assert_allclose(np.load(cache), fresh, rtol=1e-6)  # and the cache is whole again


@pytest.mark.parametrize("content", [os.urandom(64) + b"\xbb\xff", b"\x00\x01binary"])
def test_a_binary_file_as_config_or_search_space(fixture_run: Path, tiny_transactions: Path, tmp_path: Path,
                                                 content: bytes) -> None:
    binary = tmp_path / "settings.yaml"
    binary.write_bytes(content)
    result, _, err = cli("build-graph", "-t", tiny_transactions, "--out", tmp_path / "run", "--config", binary)
    one_line_failure(result, err, 2, f"config file '{binary}' is not valid YAML")
    result, _, err = cli("tune", fixture_run, "--space", binary)
    one_line_failure(result, err, 2, f"search space '{binary}' is not valid YAML")
    assert not (tmp_path / "run").exists() and not (fixture_run / "tune").exists()


def test_an_output_parent_that_is_a_file_or_read_only(tiny_transactions: Path, tmp_path: Path, unwritable: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("mine\n")
    before = snapshot(tmp_path)
    for out in (a_file / "run", unwritable / "graphassoc-test" / "run"):
        result, _, err = cli("build-graph", "-t", tiny_transactions, "--out", out)
        one_line_failure(result, err, 2, f"cannot create '{out}'", "choose a location in a folder you can write to")
    assert snapshot(tmp_path) == before


def test_export_into_a_read_only_folder(fixture_run: Path, unwritable: Path) -> None:
    before = snapshot(fixture_run)
    result, _, err = cli("export", fixture_run, "--format", "parquet", "--out", unwritable / "graphassoc-kg")
    one_line_failure(result, err, 2, "cannot create", "graphassoc-kg")
    assert snapshot(fixture_run) == before


# -- 8. rich markup in user data is shown as written -------------------------------------------------


def test_markup_in_ids_and_titles_is_printed_literally(tmp_path: Path) -> None:
    ids = ["[/x]", "[red]", "plain", "[bold]b"]
    rows = [(f"b{i}", ids[j], f"[/title] {ids[j]} [link=x]") for i in range(12) for j in ((0, 1, 2) if i % 2 else (0, 1, 3))]
    tx = tmp_path / "tx.csv"
    pl.DataFrame(rows, schema=["basket_id", "item_id", "title"], orient="row").write_csv(tx)
    run = tmp_path / "run"
    result, _, err = cli("build-graph", "-t", tx, "--out", run, "--set", "split.valid_fraction=0.0",
                         "--set", "graph.min_count=1", "--set", "mining.min_support=0.1")
    assert result.exit_code == 0, err
    result, out, err = cli("recommend", run, "--item", "[red]", "-m", "cooccurrence", "-k", 3)
    assert result.exit_code == 0, err
    assert '{"item": "[red]"}' in out and "[/x]" in out and "[/title]" in out and "[link=x]" in out
    result, _, err = cli("recommend", run, "--item", "[/nope]", "-m", "cooccurrence")
    one_line_failure(result, err, 2, "unknown item id '[/nope]'")


# -- 4. hints that name the right thing --------------------------------------------------------------


def test_a_directory_given_as_the_transactions_file(precious: Path, tmp_path: Path) -> None:
    result, _, err = cli("build-graph", "-t", precious, "--out", tmp_path / "run")
    one_line_failure(result, err, 2, f"transactions file '{precious}' is a directory",
                     f"e.g. '{precious / 'thesis.txt'}'")
    assert not (tmp_path / "run").exists()


def test_out_of_memory_names_settings_that_change_memory(tiny_transactions: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import graphassoc.pipeline

    def too_big(*_a: object, **_k: object) -> None:
        raise MemoryError

    monkeypatch.setattr(graphassoc.pipeline, "build_graph", too_big)
    result, _, err = cli("build-graph", "-t", tiny_transactions, "--out", tmp_path / "run")
    flat = one_line_failure(result, err, 1, "out of memory", "mining.min_support", "mining.max_len")
    assert "graph.min_count" not in flat  # it filters edges after counting every pair: no memory saved

    from graphassoc.memory import MemoryBudgetError

    def over_budget(*_a: object, **_k: object) -> None:
        raise MemoryBudgetError("EASE needs 40.0 GB for 100,000 items, 20.0 GB available; set evaluate.rankers")

    monkeypatch.setattr(graphassoc.pipeline, "build_graph", over_budget)
    result, _, err = cli("build-graph", "-t", tiny_transactions, "--out", tmp_path / "run")
    one_line_failure(result, err, 1, "EASE needs 40.0 GB")


def test_a_train_window_with_one_item_names_the_split_setting(tmp_path: Path) -> None:
    # Before the cut only product "a" sells (two-line baskets of it would be one item: basket = a set).
    rows = [(f"t{i}", "a", f"2024-01-0{1 + i % 5}") for i in range(6)]
    rows += [(f"v{i}", item, "2024-02-01") for i in range(4) for item in ("a", "b", "c")]
    csv = tmp_path / "one_item.csv"
    csv.write_text("basket_id,item_id,timestamp\n" + "".join(f"{b},{i},{t}\n" for b, i, t in rows))
    run = tmp_path / "run"
    result, _, err = cli("build-graph", "-t", csv, "--out", run, "--set", "split.valid_start=2024-01-15")
    assert result.exit_code == 0, err
    result, _, err = cli("train", run)
    one_line_failure(result, err, 2, "over 1 items", "split.valid_start")
    assert not (run / "model").exists() or not any((run / "model").iterdir())
