"""Rule filters, redundancy pruning, top-k and row order against brute-force computations in plain Python."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphassoc.mining import mine
from graphassoc.mining.config import MiningConfig
from mining_reference import MEASURES, mlxtend_reference

Rule = dict[str, Any]


def all_rules(baskets: list[list[str]], min_count: int, algorithm: str = "apriori") -> list[Rule]:
    """Every rule of every itemset with count >= min_count (mlxtend, confidence >= 0), as plain dicts."""
    n = len(baskets)
    # apriori applies `count / n >= min_count / n`, i.e. count >= min_count; fpgrowth (faster on
    # the fixture) prunes at ceil(min_support * n), the same count when that product is exact.
    assert algorithm == "apriori" or math.ceil(min_count / n * n) == min_count
    _, rules = mlxtend_reference([sorted(set(b)) for b in baskets], min_count / n, 0.0, algorithm=algorithm)
    return [{"A": tuple(sorted(a)), "C": tuple(sorted(c)), **{m: float(rules[m].iloc[i]) for m in MEASURES}}
            for i, (a, c) in enumerate(zip(rules["antecedents"], rules["consequents"]))]


def keys(rules: list[Rule] | pl.DataFrame) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    if isinstance(rules, pl.DataFrame):
        return [(tuple(a), tuple(c)) for a, c in zip(rules["antecedents"].to_list(), rules["consequents"].to_list())]
    return [(r["A"], r["C"]) for r in rules]


def by_consequent(every: list[Rule]) -> dict[tuple[str, ...], list[Rule]]:
    out: dict[tuple[str, ...], list[Rule]] = {}
    for r in every:
        out.setdefault(r["C"], []).append(r)
    return out


def is_redundant(rule: Rule, same_consequent: dict[tuple[str, ...], list[Rule]]) -> bool:
    return any(set(o["A"]) < set(rule["A"]) and o["confidence"] >= rule["confidence"]
               for o in same_consequent[rule["C"]])


def documented_order(rules: list[Rule], by: str | None = None) -> list[Rule]:
    return sorted(rules, key=lambda r: ((-r[by],) if by else ()) + (-r["confidence"], -r["lift"], r["A"], r["C"]))


baskets_strategy = st.lists(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=6), min_size=3, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(baskets=baskets_strategy, min_count=st.integers(1, 4), min_confidence=st.sampled_from([0.0, 0.3, 0.6]),
       min_lift=st.sampled_from([None, 0.9, 1.2]), ante=st.sampled_from([[], ["a"], ["a", "b"]]),
       cons=st.sampled_from([[], ["c"], ["zz"]]), prune=st.booleans())
def test_filters_and_pruning_match_brute_force(baskets: list[list[str]], min_count: int, min_confidence: float,
                                               min_lift: float | None, ante: list[str], cons: list[str],
                                               prune: bool) -> None:
    n = len(baskets)
    min_count = min(min_count, n)
    cfg = MiningConfig(min_support=min_count / n, min_confidence=min_confidence, min_lift=min_lift,
                       antecedent_contains=ante, consequent_contains=cons, prune_redundant=prune)
    ours = mine(baskets, cfg).rules
    every = all_rules(baskets, min_count)
    expected = [r for r in every if r["confidence"] >= min_confidence and (min_lift is None or r["lift"] >= min_lift)
                and set(ante) <= set(r["A"]) and set(cons) <= set(r["C"])]
    if prune:
        index = by_consequent(every)
        expected = [r for r in expected if not is_redundant(r, index)]
    assert keys(ours) == keys(documented_order(expected))  # same rules, in the documented order


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(baskets=baskets_strategy, k=st.integers(1, 15), by=st.sampled_from(["lift", "confidence", "support", "leverage",
                                                                            "conviction", "zhangs_metric"]),
       min_confidence=st.sampled_from([0.0, 0.5]))
def test_top_k_matches_brute_force(baskets: list[list[str]], k: int, by: str, min_confidence: float) -> None:
    n = len(baskets)
    distinct = {i for b in baskets for i in b}
    item_counts = sorted((sum(item in set(b) for b in baskets) for item in distinct), reverse=True)
    # The documented search: start at the second largest item count, halve until k rules pass.
    count = item_counts[1] if len(item_counts) > 1 else 1
    while True:
        level = [r for r in all_rules(baskets, count) if r["confidence"] >= min_confidence]
        if len(level) >= k or count == 1:
            break
        count = max(1, count // 2)
    result = mine(baskets, MiningConfig(top_k=k, top_k_by=by, min_confidence=min_confidence, min_support=0.9))
    assert result.min_count == count
    assert keys(result.rules) == keys(documented_order(level, by)[:k])
    assert result.itemsets["count"].min() >= count


def test_prune_on_fixture_matches_brute_force(fixture_baskets: pl.Series) -> None:
    baskets = fixture_baskets.to_list()
    min_count = 25
    ours = mine(fixture_baskets, MiningConfig(min_support=min_count / len(baskets), min_confidence=0.2,
                                              prune_redundant=True)).rules
    every = all_rules(baskets, min_count, algorithm="fpgrowth")
    index = by_consequent(every)
    expected = [r for r in every if r["confidence"] >= 0.2 and not is_redundant(r, index)]
    assert 50 < len(expected) < len([r for r in every if r["confidence"] >= 0.2])
    assert keys(ours) == keys(documented_order(expected))


def test_itemsets_order_and_schema(fixture_baskets: pl.Series) -> None:
    result = mine(fixture_baskets, MiningConfig(min_support=0.02, min_confidence=0.2))
    assert result.itemsets.schema == pl.Schema({"itemsets": pl.List(pl.String), "support": pl.Float64,
                                                "count": pl.Int64})
    assert list(result.rules.columns) == ["antecedents", "consequents", "count", *MEASURES]
    rows = [(-c, tuple(s)) for s, c in zip(result.itemsets["itemsets"].to_list(), result.itemsets["count"])]
    assert rows == sorted(rows)
    assert all(s == sorted(s) for s in result.itemsets["itemsets"].to_list())
    assert np.all(result.rules["confidence"].to_numpy() >= 0.2)
