"""The Recommender on the fixture run: against a brute-force co-occurrence reference, against the
evaluation protocol's own ranking, and batch behaviour (order, errors, atomic output)."""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from graphassoc.errors import GraphassocError, UsageError
from graphassoc.evaluate.protocol import evaluate, top_k
from graphassoc.recommend.service import Recommender, write_batch


@pytest.fixture(scope="module")
def cooc(fixture_run: Path) -> Recommender:
    return Recommender.load(fixture_run, "cooccurrence")


@pytest.fixture(scope="module")
def evidence_baskets(fixture_run: Path) -> list[set[str]]:
    baskets = pl.read_parquet(fixture_run / "baskets.parquet")
    return [set(b) for b in baskets.filter(pl.col("split").is_in(["train", "valid"]))["items"].to_list()]


def _reference_cooccurrence(baskets: list[set[str]], query: list[str]) -> dict[str, float]:
    """sum over q of P(j | q), counted with plain Python over the train + valid baskets."""
    pair: Counter[tuple[str, str]] = Counter()
    single: Counter[str] = Counter()
    for basket in baskets:
        single.update(basket)
        if any(q in basket for q in query):
            for q in query:
                if q in basket:
                    pair.update((q, j) for j in basket if j != q)
    out: Counter[str] = Counter()
    for (q, j), n in pair.items():
        out[j] += n / single[q]
    return dict(out)


def test_basket_recommendations_match_brute_force_cooccurrence(cooc: Recommender, evidence_baskets) -> None:
    popular = [i for i, _ in Counter(i for b in evidence_baskets for i in b).most_common(6)]
    for query in [popular[:1], popular[1:3], [popular[0], popular[4], popular[5]]]:
        result = cooc.recommend_basket(query, k=10)
        reference = _reference_cooccurrence(evidence_baskets, query)
        got = [r.item_id for r in result.items]
        assert len(got) == 10 and not set(got) & set(query)
        for rec in result.items:
            assert rec.score == pytest.approx(reference.get(rec.item_id, 0.0), rel=1e-4)
        # Nothing left out scores above the 10th item.
        outside = [v for j, v in reference.items() if j not in got and j not in query]
        assert max(outside) <= result.items[-1].score + 1e-6
        assert [r.score for r in result.items] == sorted((r.score for r in result.items), reverse=True)
        assert [r.rank for r in result.items] == list(range(1, 11))


def test_item_is_a_basket_of_one_with_titles_and_evidence(cooc: Recommender) -> None:
    item = cooc.item_ids[int(np.argmax(cooc.ctx.popularity))]
    single, basket = cooc.recommend_item(item, 5), cooc.recommend_basket([item], 5)
    assert [r.item_id for r in single.items] == [r.item_id for r in basket.items]
    assert single.query == {"item": item}
    titles = dict(zip(cooc.item_ids, cooc.titles))
    for rec in single.items:
        assert rec.title == titles[rec.item_id]
        assert rec.evidence is not None and rec.evidence.ranker == "cooccurrence"
        assert rec.evidence.copurchase_count > 0  # the best co-occurring items were co-bought in train
    assert json.loads(json.dumps(single.to_dict()))["items"][0]["evidence"]["ranker"] == "cooccurrence"


@pytest.mark.parametrize("levels", [3, 1000])
def test_top_k_equals_a_full_stable_sort(levels: int) -> None:
    rng = np.random.default_rng(levels)
    scores = rng.integers(0, levels, size=(64, 300)).astype(np.float32)  # 3 levels: ties everywhere
    scores[:, rng.integers(0, 300, size=40)] = -np.inf
    scores[0, 5:] = -np.inf  # fewer finite items than k
    pos = rng.permutation(300)
    for k in (1, 10, 300):
        by_pos = np.argsort(pos)  # reference: sort whole rows, stable in tie-break order
        full = by_pos[np.argsort(-scores[:, by_pos], axis=1, kind="stable")[:, :k]]
        assert (top_k(scores, k, pos) == full).all()


def test_batch_equals_the_evaluation_protocol_top10(cooc: Recommender) -> None:
    """Batch output on the test split's leave-one-out queries is exactly compare's ranking."""
    queries = cooc.ctx.queries("test")
    assert len(queries) > 50
    lines = [json.dumps({"id": bid, "basket": [cooc.item_ids[i] for i in q]})
             for bid, q in zip(queries.basket_ids, queries.query)]
    out = list(cooc.recommend_batch(lines, k=10))
    ranking = evaluate(cooc.ranker.score, queries, cooc.ctx.tiebreak, k=10)
    assert [o["id"] for o in out] == queries.basket_ids
    for row, o in enumerate(out):
        assert o["items"] == [cooc.item_ids[i] for i in ranking.top[row]]
        assert not set(o["items"]) & set(json.loads(lines[row])["basket"])


def test_batch_reports_bad_lines_and_processes_the_rest(cooc: Recommender) -> None:
    a, b = cooc.item_ids[:2]
    lines = [json.dumps({"id": 1, "basket": [a]}),
             "{not json",
             "",  # blank lines are skipped, not errors
             json.dumps({"id": "x", "basket": [a, "NO-SUCH-ITEM"]}),
             json.dumps({"id": 4, "basket": []}),
             json.dumps({"basket": [a]}),
             json.dumps({"id": 6, "basket": "a b"}),
             json.dumps({"id": 7, "basket": [b, a, a]}),
             b"\xff\xfe\n"]
    out = list(cooc.recommend_batch(lines, k=3))
    errors = {o["line"]: o["error"] for o in out if "error" in o}
    assert set(errors) == {2, 4, 5, 6, 7, 9}
    assert "not valid JSON" in errors[2]
    assert "unknown item id 'NO-SUCH-ITEM'" in errors[4]
    assert "empty basket" in errors[5]
    assert [o["id"] for o in out] == [1, None, "x", 4, None, 6, 7, None]
    good = [o for o in out if "error" not in o]
    assert [len(o["items"]) for o in good] == [3, 3]
    assert good[1]["items"] == [r.item_id for r in cooc.recommend_basket([a, b], 3).items]


def test_batch_chunks_do_not_change_the_output(fixture_run: Path, cooc: Recommender) -> None:
    small = Recommender(cooc.run, cooc.ctx, cooc.ranker, cooc.method, cooc.cfg.model_copy(update={"chunk_size": 3}))
    lines = [json.dumps({"id": i, "basket": list(pair)}) for i, pair in enumerate(combinations(cooc.item_ids[:6], 2))]
    lines.insert(4, "oops")
    assert list(small.recommend_batch(lines, k=5)) == list(cooc.recommend_batch(lines, k=5))


def test_write_batch_is_atomic(tmp_path: Path, cooc: Recommender) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text("\n".join(json.dumps({"id": i, "basket": [item]}) for i, item in enumerate(cooc.item_ids[:5])) + "\n")
    out = tmp_path / "recs.jsonl"
    seen: list[int] = []
    summary = write_batch(cooc, queries, out, k=4, on_error=lambda line, _msg: seen.append(line))
    assert summary.queries == summary.answered == 5 and not seen
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == list(range(5))
    with pytest.raises(UsageError, match="already exists"):
        write_batch(cooc, queries, out)

    class Boom(Exception):
        pass

    def exploding(lines, k=None):
        yield {"id": 0, "items": [], "scores": []}
        raise Boom

    broken = Recommender(cooc.run, cooc.ctx, cooc.ranker, cooc.method, cooc.cfg)
    broken.recommend_batch = exploding  # type: ignore[method-assign]
    target = tmp_path / "never.jsonl"
    with pytest.raises(Boom):
        write_batch(broken, queries, target)
    assert not target.exists() and list(tmp_path.glob(".never.jsonl*")) == []


def test_unknown_and_empty_queries_are_one_line_errors(cooc: Recommender) -> None:
    known = cooc.item_ids[10]
    with pytest.raises(UsageError, match=f"unknown item id '{known.lower()}x'.*close ids: .*{known}") as err:
        cooc.recommend_basket([f"{known.lower()}x"])
    assert "--text" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UsageError, match="empty basket"):
        cooc.recommend_basket([" "])
    with pytest.raises(UsageError, match="empty --text"):
        cooc.recommend_text("  ")


def test_methods_and_missing_model(fixture_run: Path) -> None:
    with pytest.raises(UsageError, match="unknown ranker 'nope'; valid: .*ease"):
        Recommender.load(fixture_run, "nope")
    for needs_model in ("model", "model-joint", "gnn-no-text"):
        with pytest.raises(GraphassocError, match="train"):
            Recommender.load(fixture_run, needs_model)
    with pytest.raises(UsageError, match="does not exist"):
        Recommender.load(fixture_run / "missing")


def test_default_method_without_a_model_is_ease(fixture_run: Path, tmp_path: Path) -> None:
    import shutil

    import yaml

    # A copy of the fixture run with a two-value lambda grid: the tuning path at a third of the cost.
    run = tmp_path / "run"
    shutil.copytree(fixture_run, run, ignore=shutil.ignore_patterns("recommend", "model", "compare", "exports"))
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["rankers"]["ease_lambdas"] = [50.0, 800.0]
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    rec = Recommender.load(run)
    assert rec.method == "ease" and rec.ranker.notes["lambda"] in (50.0, 800.0)
    assert set(rec.ranker.notes["valid_hr@10"]) == {"50.0", "800.0"}  # it was tuned on validation
    # The tuned lambda is kept for the next load, keyed by what it depends on.
    stored = json.loads((run / "recommend" / "tuned.json").read_text())
    assert stored["values"]["ease:lambda"] == rec.ranker.notes["lambda"]
    again = Recommender.load(run)
    assert again.ranker.notes["lambda"] == rec.ranker.notes["lambda"]
    out = list(again.recommend_batch([json.dumps({"id": 0, "basket": rec.item_ids[:2]})], k=5))
    assert len(out[0]["items"]) == 5 and again.method == "ease"
    # A changed rankers config invalidates the stored value.
    config["rankers"]["ease_lambdas"] = [300.0]
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    assert Recommender.load(run).ranker.notes["lambda"] == 300.0


# -- free-text search ------------------------------------------------------------------------------


def _with(rec: Recommender, **update) -> Recommender:
    return Recommender(rec.run, rec.ctx, rec.ranker, rec.method, rec.cfg.model_copy(update=update))


def test_text_search_finds_the_product_and_its_cosine_matches_sentence_transformers(cooc: Recommender) -> None:
    st = pytest.importorskip("sentence_transformers")
    from graphassoc.text.encoder import default_model_dir

    result = cooc.recommend_text("lunch bag red retrospot", k=5)
    assert "LUNCH BAG" in result.items[0].title and "RED" in result.items[0].title
    assert result.query == {"text": "lunch bag red retrospot"} and result.items[0].evidence.ranker == "text+cooccurrence"
    model = st.SentenceTransformer(str(default_model_dir()), device="cpu")
    vectors = model.encode(["lunch bag red retrospot"] + [r.title.strip() for r in result.items], normalize_embeddings=True)
    for rec, vector in zip(result.items, vectors[1:]):
        assert rec.evidence.text_similarity == pytest.approx(float(vector @ vectors[0]), abs=2e-3)


def test_text_blend_only_reorders_semantic_candidates(cooc: Recommender) -> None:
    query = "pink heart candle holder"
    pure = _with(cooc, text_evidence_weight=0.0).recommend_text(query, k=8)
    sims = [r.evidence.text_similarity for r in pure.items]
    assert sims == sorted(sims, reverse=True)
    assert [r.score for r in pure.items] == pytest.approx(sims, abs=1e-4)
    # With evidence dominating, results are still drawn from the best `text_candidates` by cosine,
    # now ordered by how strongly they are bought with the top text matches.
    strong = _with(cooc, text_evidence_weight=100.0, text_candidates=20).recommend_text(query, k=8)
    top20 = _with(cooc, text_evidence_weight=0.0).recommend_text(query, k=20)
    assert {r.item_id for r in strong.items} <= {r.item_id for r in top20.items}
    assert [r.item_id for r in strong.items] != [r.item_id for r in pure.items]
    seeds = [r.item_id for r in top20.items[:cooc.cfg.text_seeds]]
    evidence = cooc.ranker.score([cooc.resolve(seeds)])[0]
    strong_evidence = [evidence[cooc.index[r.item_id]] for r in strong.items]
    assert strong_evidence == sorted(strong_evidence, reverse=True)


def test_default_method_is_hybrid_once_a_model_is_trained(tmp_path: Path) -> None:
    from graphassoc.recommend.service import default_method

    assert default_method(tmp_path) == "ease"
    (tmp_path / "model" / "no-text").mkdir(parents=True)  # the id-only GNN is a baseline, not "a model"
    assert default_method(tmp_path) == "ease"
    (tmp_path / "model" / "joint").mkdir()
    assert default_method(tmp_path) == "hybrid"


def test_hybrid_label_says_how_much_each_side_counted(cooc: Recommender) -> None:
    class Part:
        def __init__(self, name: str) -> None:
            self.name = name

    class GatedStub:  # the attributes HybridRanker exposes after fit
        alpha = np.linspace(0.0, 1.0, cooc.ctx.n_items)
        evidence, model = Part("ease"), Part("text")

    rec = Recommender(cooc.run, cooc.ctx, GatedStub(), "hybrid", cooc.cfg)  # type: ignore[arg-type]
    assert rec.ranker_labels(np.array([0, cooc.ctx.n_items - 1])) == ["hybrid (0% ease, 100% text)",
                                                                      "hybrid (100% ease, 0% text)"]
    assert cooc.ranker_labels(np.array([0]), "text+") == ["text+cooccurrence"]
