"""Evidence: hand-computed cases, then the fixture run against brute-force scans of rules and baskets."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from graphassoc.recommend.evidence import Explainer, RuleIndex, copurchase_matrix

ITEMS = ["a", "b", "c", "d", "e"]
INDEX = {item: i for i, item in enumerate(ITEMS)}


def _rules(rows: list[tuple[list[str], list[str], float, float, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"antecedents": [r[0] for r in rows], "consequents": [r[1] for r in rows], "support": [r[2] for r in rows],
         "confidence": [r[3] for r in rows], "lift": [r[4] for r in rows], "count": [r[5] for r in rows]},
        schema={"antecedents": pl.List(pl.Utf8), "consequents": pl.List(pl.Utf8), "support": pl.Float64,
                "confidence": pl.Float64, "lift": pl.Float64, "count": pl.Int64})


RULES = _rules([
    (["a"], ["c"], 0.1, 0.5, 2.0, 10),
    (["a", "b"], ["c"], 0.05, 0.9, 3.0, 5),      # best for c, but needs b too
    (["d"], ["c"], 0.2, 0.6, 1.5, 20),
    (["a"], ["c", "e"], 0.04, 0.7, 4.0, 4),      # two consequents: names c and e
    (["zz"], ["e"], 0.3, 0.99, 9.0, 30),         # antecedent outside the catalogue: never applies
])
EDGES = pl.DataFrame({"src_idx": [0, 0, 1, 2], "dst_idx": [2, 4, 2, 3], "count": [7, 2, 3, 11]})


def _explainer(embeddings: np.ndarray | None = None) -> Explainer:
    return Explainer(ITEMS, RuleIndex(RULES, INDEX), copurchase_matrix(EDGES, len(ITEMS)), embeddings)


def test_best_rule_needs_the_whole_antecedent_in_the_query() -> None:
    explainer = _explainer()
    only_a = explainer.explain([INDEX["a"]], [INDEX["c"], INDEX["e"], INDEX["b"]], "ease")
    assert only_a[0].rule is not None and only_a[0].rule.confidence == 0.7  # {a}->{c,e}; {a,b}->c needs b
    assert only_a[0].rule.consequents == ["c", "e"]
    assert only_a[1].rule is not None and only_a[1].rule.antecedents == ["a"]  # {zz}->e never applies
    assert only_a[2].rule is None
    both = explainer.explain([INDEX["a"], INDEX["b"]], [INDEX["c"]], "ease")[0]
    assert (both.rule.antecedents, both.rule.confidence, both.rule.lift, both.rule.count) == (["a", "b"], 0.9, 3.0, 5)


def test_rule_order_by_lift() -> None:
    explainer = Explainer(ITEMS, RuleIndex(RULES, INDEX, order_by="lift"), copurchase_matrix(EDGES, 5))
    best = explainer.explain([INDEX["a"], INDEX["d"]], [INDEX["c"]], "x")[0].rule
    assert best is not None and best.lift == 4.0


def test_copurchase_counts_sum_over_query_items_both_directions() -> None:
    ev = _explainer().explain([INDEX["a"], INDEX["b"], INDEX["d"]], [INDEX["c"], INDEX["e"], INDEX["b"]], "x")
    assert [e.copurchase_count for e in ev] == [7 + 3 + 11, 2, 0]
    assert [e.copurchased_with for e in ev] == ["d", "a", None]


def test_text_similarity_is_the_max_cosine_over_other_query_items() -> None:
    emb = np.eye(5, dtype=np.float32)
    emb[2] = [0.6, 0.8, 0, 0, 0]
    explainer = _explainer(emb)
    ev = explainer.explain([INDEX["a"], INDEX["b"]], [INDEX["c"], INDEX["d"]], "x")
    assert ev[0].text_similarity == pytest.approx(0.8) and ev[0].similar_to == "b"
    assert ev[1].text_similarity == pytest.approx(0.0)
    # An item inside the query (free-text search) is compared with the others only, never itself.
    inside = explainer.explain([INDEX["a"], INDEX["c"]], [INDEX["c"]], "x")[0]
    assert inside.text_similarity == pytest.approx(0.6) and inside.similar_to == "a"
    # A search-text vector replaces the query items.
    text = explainer.explain([INDEX["a"]], [INDEX["c"]], "x", text_vector=np.array([0, 1, 0, 0, 0], np.float32))[0]
    assert text.text_similarity == pytest.approx(0.8) and text.similar_to is None
    assert _explainer(None).explain([0], [2], "x")[0].text_similarity is None


# -- the fixture run against brute force ---------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_tables(fixture_run: Path):
    items = pl.read_parquet(fixture_run / "items.parquet")
    index = {item: i for i, item in enumerate(items["item_id"].to_list())}
    rules = pl.read_parquet(fixture_run / "rules.parquet")
    edges = pl.read_parquet(fixture_run / "graph" / "edges.parquet")
    train = pl.read_parquet(fixture_run / "baskets.parquet").filter(pl.col("split") == "train")
    return items, index, rules, edges, [set(b) for b in train["items"].to_list()], fixture_run


def _reference_rule(rules: list[tuple[set[str], list[str], float]], query: set[str], item: str) -> float | None:
    """Max confidence over a plain scan of every rule (the thing the index exists to avoid)."""
    confidences = [conf for ante, cons, conf in rules if ante <= query and item in cons]
    return max(confidences) if confidences else None


def test_fixture_evidence_matches_brute_force(fixture_tables) -> None:
    items, index, rules, edges, train = fixture_tables[:5]
    min_count = yaml.safe_load((fixture_tables[5] / "config.yaml").read_text())["graph"]["min_count"]
    explainer = Explainer(items["item_id"].to_list(), RuleIndex(rules, index), copurchase_matrix(edges, items.height))
    rule_list = [(set(a), c, f) for a, c, f in zip(rules["antecedents"].to_list(), rules["consequents"].to_list(),
                                                    rules["confidence"].to_list())]
    holders: dict[str, set[int]] = {}  # item -> train baskets holding it
    for row, basket in enumerate(train):
        for item in basket:
            holders.setdefault(item, set()).add(row)
    # Queries: the antecedents of a few rules with two antecedent items, and pairs of popular items.
    two = rules.filter(pl.col("antecedents").list.len() == 2)["antecedents"].to_list()[:5]
    popular = items.sort("popularity", descending=True)["item_id"].to_list()[:8]
    queries = [set(q) for q in two] + [set(p) for p in combinations(popular[:4], 2)]
    candidates = popular + rules["consequents"].explode().unique().sort().to_list()[:40]
    n_rules_found = 0
    for query in queries:
        targets = [c for c in dict.fromkeys(candidates) if c not in query]
        evidence = explainer.explain([index[q] for q in query], [index[t] for t in targets], "ease")
        for target, ev in zip(targets, evidence):
            expected = _reference_rule(rule_list, query, target)
            assert (ev.rule.confidence if ev.rule else None) == expected, (query, target)
            if ev.rule:
                n_rules_found += 1
                assert set(ev.rule.antecedents) <= query and target in ev.rule.consequents
                # The rule's count is the number of train baskets holding all of its items.
                rule_items = set(ev.rule.antecedents) | set(ev.rule.consequents)
                assert ev.rule.count == len(set.intersection(*(holders.get(i, set()) for i in rule_items)))
            pair_counts = [len(holders.get(q, set()) & holders.get(target, set())) for q in query]
            assert ev.copurchase_count == sum(c for c in pair_counts if c >= min_count), (query, target)
    assert n_rules_found > 10  # the check exercised real rules, not only "no rule" cases
