"""`compare` end to end: files written, models skipped when absent, report self-contained, CLI errors."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_run import THEMES, build_tiny_run  # noqa: E402

from graphassoc.cli.main import app  # noqa: E402
from graphassoc.config import load_config  # noqa: E402
from graphassoc.errors import UsageError  # noqa: E402
from graphassoc.evaluate.compare import compare  # noqa: E402
from graphassoc.runs import Run  # noqa: E402

FILES = ("metrics.json", "report.md", "report.html")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from graphassoc.text.testing import save_tiny_bert

    words = sorted({w for ws in THEMES.values() for w in ws} | set(THEMES) | {"holder", "set"})
    return save_tiny_bert(tmp_path_factory.mktemp("bert") / "tiny", words)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> Path:
    return build_tiny_run(tmp_path_factory.mktemp("cmp"), **{"text.model": str(tiny_bert)})


@pytest.fixture
def run_copy(tiny_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_run, tmp_path / "run"))


class FakeModel:
    """Co-occurrence-free scores that favour items with the same first letter (the same theme)."""

    def __init__(self, run_dir: Path) -> None:
        ids = Run(run_dir).items()["item_id"].to_list()
        self.theme = np.array([i[0] for i in ids])

    def score_baskets(self, baskets):
        return np.stack([(self.theme[None, :] == self.theme[b][:, None]).mean(axis=0).astype(np.float32) for b in baskets])


def _answered_share(run_dir: Path, seed: int) -> float:
    """Share of the test queries for which a rule mined by mlxtend on the evidence window (train +
    valid) with the rankers' settings has its antecedent inside the query and a consequent outside it."""
    import polars as pl

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mining"))
    from mining_reference import mlxtend_reference

    from graphassoc.evaluate.protocol import leave_one_out

    run = Run(run_dir)
    cfg, baskets, items = run.config.rankers, run.baskets(), run.items()["item_id"].to_list()
    evidence = baskets.filter(pl.col("split").is_in(["train", "valid"]))["items"].to_list()
    _, rules = mlxtend_reference(evidence, cfg.rules_min_support, cfg.rules_min_confidence, cfg.rules_max_len)
    pairs = [(set(a), set(c)) for a, c in zip(rules["antecedents"], rules["consequents"])]
    assert pairs, "the tiny run should have rules"
    queries = leave_one_out(baskets, {item: i for i, item in enumerate(items)}, "test", seed)
    answered = [any(a <= query and c - query for a, c in pairs) for query in
                ({items[i] for i in q} for q in queries.query)]
    return sum(answered) / len(answered)


def _hybrid_sides_by_hand(run_dir: Path, cfg, seed: int) -> dict[str, float]:
    """Best validation HR@10 of the hybrid with each model side: frozen text, and the fake model."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rankers"))
    from hybrid_reference import hybrid_grid, max_cosine

    from graphassoc.rankers.context import RankContext
    from graphassoc.rankers.ease import EaseRanker
    from graphassoc.rankers.text import item_embeddings

    run = Run(run_dir)
    valid = RankContext(run.path, run.items(), run.baskets(), "test", seed, cfg.evaluate, cfg).validation()
    q = valid.queries()
    evidence = EaseRanker().fit(valid).score(q.query)
    sides = {"text": max_cosine(item_embeddings(valid), q.query), "model-joint": FakeModel(run_dir).score_baskets(q.query)}
    return {name: max(hybrid_grid(valid.popularity, q.query, q.target, evidence, scores).values())
            for name, scores in sides.items()}


def test_compare_without_a_model_skips_it_and_compares_the_rest(run_copy):
    result = compare(run_copy)
    for name in FILES:
        assert (run_copy / "compare" / name).is_file()
    assert "model" in result.skipped and "gnn-no-text" in result.skipped
    assert {"popularity", "cooccurrence", "rules", "ease", "text", "hybrid"} <= set(result.metrics)
    data = json.loads((run_copy / "compare" / "metrics.json").read_text())
    assert data["n_queries"] == result.n_queries > 40
    assert sum(data["strata_sizes"][s] for s in ("cold", "sparse", "warm")) == result.n_queries
    ease = data["metrics"]["ease"]["overall"]
    assert ease["intervals"]["hr@10"]["low"] <= ease["hr@10"] <= ease["intervals"]["hr@10"]["high"]
    assert data["best_baseline"] in data["metrics"]
    assert data["leakage"]["passed"]
    # The share of test queries some rule answers, against mlxtend's rules checked query by query.
    assert data["metrics"]["rules"]["notes"]["answered_share"] == pytest.approx(_answered_share(run_copy, result.seed), abs=1e-4)
    # New products: rules and co-occurrence can never find them, text can.
    assert data["metrics"]["rules"]["strata"]["never_seen"]["hr@10"] == 0
    html = (run_copy / "compare" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "http://" not in html and "https://" not in html
    # It opens with its finding in one sentence and the headline plot, then the tables.
    assert html.index("class='finding'") < html.index("data:image/png") < html.index("<table>")
    assert f"of {result.n_queries:,} test queries" in html
    md = (run_copy / "compare" / "report.md").read_text()
    assert "| ease |" in md and "Paired differences" in md


def test_compare_with_a_trained_model_adds_it_with_examples(run_copy, monkeypatch):
    import graphassoc.model as model_pkg

    (run_copy / "model" / "joint").mkdir(parents=True)
    monkeypatch.setattr(model_pkg, "load_model", lambda path, mode, evidence: FakeModel(Path(path)), raising=False)
    cfg = load_config(None, ["evaluate.rankers=[popularity, rules, model, hybrid]"],
                      base=Run(run_copy).config.model_dump(mode="json"))
    result = compare(run_copy, cfg)
    assert "model-joint" in result.metrics and not result.metrics["model-joint"]["baseline"]
    notes = result.metrics["hybrid"]["notes"]
    tried = notes["model_sides_tried"]
    assert set(tried) == {"text", "model-joint"}  # chosen on validation, not test
    # Each side's best validation HR@10 over the (tau, beta) grid, recomputed by brute force.
    expected = _hybrid_sides_by_hand(run_copy, cfg, result.seed)
    assert tried == pytest.approx(expected, abs=1e-4)
    assert notes["model"] == max(expected, key=expected.get)
    assert result.paired["model-joint"]["overall"]["hr@10"]["mean"] == pytest.approx(
        result.metrics["model-joint"]["overall"]["hr@10"] - result.metrics[result.best_baseline]["overall"]["hr@10"])
    assert result.overlap["model"] == "model-joint" and sum(result.overlap["histogram_counts"]) == result.n_queries
    ex = result.examples
    assert ex["new_products_and_predicted_partners"] and ex["rules_the_model_ranks_low"]
    titles = set(Run(run_copy).items()["title"].to_list())
    assert ex["new_products_and_predicted_partners"][0]["new_product"] in titles


def test_compare_refuses_to_overwrite_and_rejects_unknown_rankers(run_copy):
    cfg = load_config(None, ["evaluate.rankers=[popularity]"], base=Run(run_copy).config.model_dump(mode="json"))
    compare(run_copy, cfg)
    with pytest.raises(UsageError, match="already exists; pass --overwrite"):
        compare(run_copy, cfg)
    bad = cfg.model_copy(update={"evaluate": cfg.evaluate.model_copy(update={"rankers": ["nope"]})})
    with pytest.raises(UsageError, match="unknown ranker 'nope'"):
        compare(run_copy, bad, overwrite=True)
    assert (run_copy / "compare" / "metrics.json").is_file()  # the old report is untouched


def test_cli_prints_the_headline_and_fails_in_one_line(run_copy, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["compare", str(run_copy), "--set", "evaluate.rankers=[popularity,cooccurrence]",
                             "--set", "evaluate.draws=3"])
    assert ok.exit_code == 0, ok.output
    draws = json.loads((run_copy / "compare" / "metrics.json").read_text())["metrics"]["cooccurrence"]["draws"]
    assert draws["n"] == 3 and draws["hr@10"]["min"] <= draws["hr@10"]["mean"] <= draws["hr@10"]["max"]
    assert "hidden-item draws" in (run_copy / "compare" / "report.md").read_text()
    assert "cooccurrence" in ok.output and "HR@10" in ok.output
    again = runner.invoke(app, ["compare", str(run_copy)])
    assert again.exit_code == 2 and "--overwrite" in again.output and "Traceback" not in again.output
    missing = runner.invoke(app, ["compare", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    bad_key = runner.invoke(app, ["compare", str(run_copy), "--overwrite", "--set", "evaluate.nope=1"])
    assert bad_key.exit_code == 2 and "unknown config key 'evaluate.nope'" in bad_key.output


def test_compare_on_the_bundled_fixture_writes_every_file(fixture_run, tmp_path, tiny_bert):
    run_dir = Path(shutil.copytree(fixture_run, tmp_path / "fixture"))
    cfg = load_config(None, ["rankers.ease_lambdas=[500]", f"text.model={tiny_bert}"],
                      base=Run(run_dir).config.model_dump(mode="json"))
    result = compare(run_dir, cfg)
    for name in FILES:
        assert (run_dir / "compare" / name).is_file()
    assert result.n_queries > 500 and result.metrics["ease"]["overall"]["hr@10"] > result.metrics["popularity"]["overall"]["hr@10"]


def test_a_run_without_test_baskets_is_a_one_line_usage_error(tmp_path):
    run_dir = build_tiny_run(tmp_path, **{"split.test_start": "null"})
    with pytest.raises(UsageError, match="the test split has no basket"):
        compare(run_dir)
    assert not (run_dir / "compare").exists()
