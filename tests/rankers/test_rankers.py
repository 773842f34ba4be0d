"""Rankers against independent brute-force references, on a small synthetic run built by build-graph."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluate"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from hybrid_reference import hybrid_grid, max_cosine, zscore  # noqa: E402
from tiny_run import build_tiny_run  # noqa: E402

from graphassoc.errors import UsageError  # noqa: E402
from graphassoc.rankers.base import RANKERS, RankerUnavailable  # noqa: E402
from graphassoc.rankers.context import RankContext  # noqa: E402
from graphassoc.rankers.counts import CooccurrenceRanker, PopularityRanker  # noqa: E402
from graphassoc.rankers.ease import EaseRanker  # noqa: E402
from graphassoc.rankers.hybrid import HybridRanker  # noqa: E402
from graphassoc.rankers.model import ModelRanker  # noqa: E402
from graphassoc.rankers.rules import RulesRanker  # noqa: E402
from graphassoc.rankers.text import TextRanker  # noqa: E402
from graphassoc.graph.ease import ease_weights  # noqa: E402
from graphassoc.runs import Run  # noqa: E402


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_run(tmp_path_factory.mktemp("tiny"))


def context(run_dir: Path, phase: str = "test", **settings) -> RankContext:
    """A context of the tiny run with these rankers settings (`rankers.<key>`) changed."""
    config = Run(run_dir).config
    config = config.model_copy(update={"rankers": config.rankers.model_copy(update=settings)})
    run = Run(run_dir)
    return RankContext(run.path, run.items(), run.baskets(), phase, 0, config.evaluate, config)


def evidence_lists(ctx: RankContext) -> list[list[int]]:
    return [[ctx.item_index[i] for i in items] for items in ctx.evidence_baskets["items"].to_list()]


def some_queries(ctx: RankContext) -> list[np.ndarray]:
    return ctx.queries().query[:25] + [np.array([ctx.n_items - 1]), np.array([0, 1, 2])]


def test_registry_lists_every_ranker_and_rejects_unknown_names():
    assert {"popularity", "cooccurrence", "rules", "ease", "text", "gnn-no-text", "model", "hybrid"} <= set(RANKERS.names())
    with pytest.raises(UsageError, match="valid: popularity"):
        RANKERS.get("nope")


def test_evidence_window_is_train_for_validation_and_train_plus_valid_for_test(tiny_run):
    test_ctx = context(tiny_run)
    assert set(test_ctx.evidence_baskets["split"].unique()) == {"train", "valid"}
    assert set(test_ctx.validation().evidence_baskets["split"].unique()) == {"train"}
    pop = PopularityRanker().fit(test_ctx).score([np.array([0])])[0]
    counts = np.zeros(test_ctx.n_items)
    for basket in evidence_lists(test_ctx):
        counts[basket] += 1
    assert pop.tolist() == counts.tolist()


def test_cooccurrence_matches_brute_force_conditional_probabilities(tiny_run):
    ctx = context(tiny_run)
    baskets = [set(b) for b in evidence_lists(ctx)]
    queries = some_queries(ctx)
    got = CooccurrenceRanker().fit(ctx).score(queries)
    for q, row in zip(queries, got):
        for j in range(ctx.n_items):
            expect = 0.0
            for i in q:
                with_i = [b for b in baskets if i in b]
                if with_i and i != j:
                    expect += sum(j in b for b in with_i) / len(with_i)
            assert row[j] == pytest.approx(expect, abs=1e-5)


def test_ease_matches_a_per_column_ridge_solve(tiny_run):
    # Independent reference: column j of EASE is ridge regression of x_j on the other columns.
    ctx = context(tiny_run)
    x = ctx.evidence.toarray().astype(np.float64)
    lam = 10.0
    b = ease_weights(x.T @ x, lam)
    for j in range(ctx.n_items):
        others = [k for k in range(ctx.n_items) if k != j]
        xo = x[:, others]
        ridge = np.linalg.solve(xo.T @ xo + lam * np.eye(len(others)), xo.T @ x[:, j])
        assert b[others, j] == pytest.approx(ridge, abs=1e-4)
        assert b[j, j] == 0


def test_ease_lambda_is_tuned_on_validation_only(tiny_run):
    ctx = context(tiny_run, ease_lambdas=[1.0, 10.0, 100.0])
    ranker = EaseRanker().fit(ctx)
    assert ranker.notes["lambda"] in (1.0, 10.0, 100.0)
    assert set(ranker.notes["valid_hr@10"]) == {"1.0", "10.0", "100.0"}
    # Scrambling the test baskets cannot change the choice: only train and valid are read.
    run = Run(tiny_run)
    baskets = run.baskets()
    scrambled = baskets.with_columns(pl.when(pl.col("split") == "test").then(pl.col("items").list.reverse().list.head(1))
                                     .otherwise(pl.col("items")).alias("items"))
    other = RankContext(run.path, run.items(), scrambled, "test", 0, ctx.eval_cfg, run.config)
    assert EaseRanker().fit(other).notes["lambda"] == ranker.notes["lambda"]


def brute_force_rules(rules: pl.DataFrame, index: dict[str, int], query: np.ndarray, n_items: int) -> np.ndarray:
    out = np.zeros(n_items)
    qset = set(query.tolist())
    for ante, cons, conf in zip(rules["antecedents"].to_list(), rules["consequents"].to_list(), rules["confidence"].to_list()):
        if {index[a] for a in ante} <= qset:
            for c in cons:
                out[index[c]] = max(out[index[c]], conf)
    return out


def test_rules_scores_are_the_best_confidence_of_applicable_rules(tiny_run):
    ctx = context(tiny_run)
    ranker = RulesRanker().fit(ctx)
    assert ranker.rules.height > 50
    assert ranker.rules["antecedents"].list.len().max() + ranker.rules["consequents"].list.len().min() <= 3  # max_len 3
    queries = some_queries(ctx)
    got = ranker.rule_scores(queries)
    for q, row in zip(queries, got):
        assert row == pytest.approx(brute_force_rules(ranker.rules, ctx.item_index, q, ctx.n_items), abs=1e-6)
    # Items no rule names are ordered by popularity, below every rule-scored item.
    scores = ranker.score(queries)
    answered = [i for i, q in enumerate(queries) if (np.delete(got[i], q) > 0).any()]
    assert ranker.answered(queries).tolist() == [i in answered for i in range(len(queries))]
    row = scores[0]
    ruled, unruled = row[got[0] > 0], row[got[0] == 0]
    assert ruled.min() > unruled.max()
    pop = ctx.popularity[got[0] == 0]
    assert np.all(np.diff(unruled[np.argsort(pop, kind="stable")]) >= 0)


def test_rules_are_mined_on_the_evidence_window_not_on_test(tiny_run):
    ctx = context(tiny_run)
    ranker = RulesRanker().fit(ctx)
    baskets = [set(b) for b in ctx.evidence_baskets["items"].to_list()]
    for ante, cons, conf in list(zip(ranker.rules["antecedents"].to_list(), ranker.rules["consequents"].to_list(),
                                     ranker.rules["confidence"].to_list()))[:40]:
        n_ante = sum(set(ante) <= b for b in baskets)
        n_both = sum(set(ante) | set(cons) <= b for b in baskets)
        assert conf == pytest.approx(n_both / n_ante)


def test_text_ranker_is_the_max_cosine_to_any_query_item(tiny_run):
    ctx = context(tiny_run)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(ctx.n_items, 8)).astype(np.float32)
    ctx.cache["text:embeddings"] = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    queries = some_queries(ctx)
    got = TextRanker().fit(ctx).score(queries)
    e = ctx.cache["text:embeddings"]
    for q, row in zip(queries, got):
        expect = [max(float(e[i] @ e[j]) for i in q) for j in range(ctx.n_items)]
        assert row == pytest.approx(expect, abs=1e-5)


class FakeModel:
    """Scores item j by a fixed vector: enough to test wiring, skipping and the hybrid gate."""

    def __init__(self, n_items: int) -> None:
        self.vector = np.linspace(0, 1, n_items, dtype=np.float32)

    def score_baskets(self, baskets):
        return np.tile(self.vector, (len(baskets), 1))


def test_a_missing_model_is_reported_as_unavailable(tiny_run):
    with pytest.raises(RankerUnavailable, match="no trained model 'joint'"):
        ModelRanker("joint").fit(context(tiny_run))
    with pytest.raises(RankerUnavailable):
        RANKERS.get("gnn-no-text")().fit(context(tiny_run))


def test_model_ranker_loads_the_mode_through_the_model_stage(tiny_run, monkeypatch, tmp_path):
    import shutil

    import graphassoc.model as model_pkg

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    (run_dir / "model" / "joint").mkdir(parents=True)
    loaded = []
    ctx = context(run_dir)
    monkeypatch.setattr(model_pkg, "load_model", lambda path, mode, evidence: loaded.append((Path(path), mode, evidence))
                        or FakeModel(ctx.n_items), raising=False)
    scores = ModelRanker("joint").fit(ctx).score([np.array([0]), np.array([1, 2])])
    ModelRanker("joint").fit(ctx.validation())
    # Test queries read train + valid evidence; validation queries train only.
    assert loaded == [(run_dir, "joint", ("train", "valid")), (run_dir, "joint", ("train",))]
    assert scores.shape == (2, ctx.n_items) and scores[1].tolist() == FakeModel(ctx.n_items).vector.tolist()


def test_a_model_that_cannot_be_loaded_is_skipped_with_its_reason(tiny_run, monkeypatch, tmp_path):
    import shutil

    import graphassoc.model as model_pkg

    run_dir = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    (run_dir / "model" / "old").mkdir(parents=True)

    def broken(path, mode, evidence):
        raise UsageError("'model/old/model-best' was saved in format 1, this version reads 2; retrain it")

    monkeypatch.setattr(model_pkg, "load_model", broken, raising=False)
    with pytest.raises(RankerUnavailable, match="model 'old' cannot be loaded: .*format 1"):
        ModelRanker("old").fit(context(run_dir))


def test_hybrid_gate_is_tuned_on_validation_and_uses_the_model_for_new_products(tiny_run):
    ctx = context(tiny_run, ease_lambdas=[10.0])
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(ctx.n_items, 8)).astype(np.float32)
    ctx.cache["text:embeddings"] = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    hybrid = HybridRanker(TextRanker).fit(ctx)
    assert hybrid.notes["model"] == "text" and hybrid.notes["evidence"] == "ease"
    # The chosen (tau, beta) is the best of the grid on the validation queries, recomputed by brute
    # force here: evidence = EASE on train, model side = max cosine, full sort with the tie-break.
    valid, emb = ctx.validation(), ctx.cache["text:embeddings"]
    q = valid.queries()
    grid = hybrid_grid(valid.popularity, q.query, q.target, EaseRanker().fit(valid).score(q.query), max_cosine(emb, q.query))
    best = max(grid.values())
    assert hybrid.notes["valid_hr@10"] == pytest.approx(best, abs=1e-4)
    assert grid[(hybrid.tau, hybrid.beta)] == pytest.approx(best, abs=1e-12)
    # A never-seen item is scored by the model side alone: beta * z(text), whatever tau was chosen.
    new = ctx.popularity == 0
    assert new.any() and not new.all()
    queries = some_queries(ctx)
    z_text = zscore(max_cosine(emb, queries))
    np.testing.assert_allclose(hybrid.score(queries)[:, new], hybrid.beta * z_text[:, new], atol=1e-4)
    # The gate does not move when the test baskets change.
    run = Run(tiny_run)
    scrambled = run.baskets().with_columns(
        pl.when(pl.col("split") == "test").then(pl.lit(["c0", "c1"])).otherwise(pl.col("items")).alias("items"))
    other = RankContext(run.path, run.items(), scrambled, "test", 0, ctx.eval_cfg, ctx.config,
                        cache={"text:embeddings": ctx.cache["text:embeddings"]})
    again = HybridRanker(TextRanker).fit(other)
    assert (again.tau, again.beta) == (hybrid.tau, hybrid.beta)


def _with_config(ctx: RankContext, **sections) -> RankContext:
    config = ctx.config.model_copy(update={k: getattr(ctx.config, k).model_copy(update=v) for k, v in sections.items()})
    return RankContext(ctx.run_dir, ctx.items, ctx.baskets, ctx.phase, ctx.seed, ctx.eval_cfg, config)


def test_sparse_ease_ranker_with_every_neighbour_ranks_like_dense(tiny_run):
    """ease.method=sparse with K >= n - 1 is EASE exactly: same tuned lambda, same scores (to 1e-4)."""
    base = context(tiny_run, ease_lambdas=[1.0, 10.0, 100.0])
    dense = EaseRanker().fit(base)
    ctx = _with_config(base, ease={"method": "sparse", "neighbours": base.n_items})
    sparse = EaseRanker().fit(ctx)
    assert dense.notes["method"] == "dense" and sparse.notes["method"] == "sparse"
    assert sparse.notes["lambda"] == dense.notes["lambda"]
    assert sparse.notes["valid_hr@10"] == dense.notes["valid_hr@10"]
    queries = some_queries(base)
    np.testing.assert_allclose(sparse.score(queries), dense.score(queries), atol=1e-4)


def test_text_ranker_from_neighbour_lists_keeps_the_exact_top(tiny_run):
    """Above text_exact_max_items the ranker reads each item's top lists: its top 5 equal the exact top 5."""
    ctx = context(tiny_run)
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(ctx.n_items, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    ctx.cache["text:embeddings"] = emb
    listed = context(tiny_run, text_exact_max_items=1, text_neighbours=10)
    listed.cache["text:embeddings"] = emb
    queries = some_queries(ctx)
    exact, approx = TextRanker().fit(ctx).score(queries), TextRanker().fit(listed).score(queries)
    for e, a in zip(exact, approx):
        top = np.argsort(-e, kind="stable")[:5]
        assert a[top] == pytest.approx(e[top], abs=1e-5)
        assert (a[np.argsort(-a, kind="stable")[:5]] >= e[top].min() - 1e-5).all()
        assert (a <= e + 1e-5).all()  # a max over fewer candidates, never above the exact one


def test_tuning_reads_at_most_validation_baskets_queries_and_keeps_the_evidence(fixture_run: Path) -> None:
    run = Run(fixture_run)
    whole = RankContext(run.path, run.items(), run.baskets(), "test", 0, run.config.evaluate, run.config)
    capped_cfg = run.config.model_copy(update={"train": run.config.train.model_copy(update={"validation_baskets": 100})})
    capped = RankContext(run.path, run.items(), run.baskets(), "test", 0, run.config.evaluate, capped_cfg)
    all_valid = whole.validation().queries()
    some = capped.validation().queries()
    assert len(all_valid) > 100 >= len(some) > 50  # baskets with < 2 catalogue items make no query
    assert set(some.basket_ids) <= set(all_valid.basket_ids)
    assert (capped.evidence != whole.evidence).nnz == 0  # the test evidence (train + valid) is whole
    assert len(capped.queries()) == len(whole.queries())


def test_validation_draws_stay_within_validation_baskets_queries(fixture_run: Path) -> None:
    run = Run(fixture_run)

    def context(cap: int) -> RankContext:
        cfg = run.config.model_copy(update={"train": run.config.train.model_copy(update={"validation_baskets": cap})})
        return RankContext(run.path, run.items(), run.baskets(), "test", 0, run.config.evaluate, cfg).validation()

    roomy, tight = context(100_000), context(100)
    first = roomy.queries()
    four = roomy.validation_draws(4)
    assert len(four) == 4 * len(first) and four.basket_ids[:len(first)] == first.basket_ids
    assert not np.array_equal(four.target[:len(first)], four.target[len(first):2 * len(first)])  # other hidden items
    capped = tight.validation_draws(4)
    assert len(capped) <= 100 and capped.basket_ids == tight.queries().basket_ids  # one draw of the sample
