"""The fim engines give exactly mlxtend's itemsets, rules and measures (fixture + random transactions)."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphassoc.mining import mine
from graphassoc.mining.config import MiningConfig
from graphassoc.mining.stage import min_count_for

from mining_reference import assert_same_itemsets, assert_same_rules, mlxtend_reference


@pytest.mark.parametrize("engine", ["fim", "fim-fpgrowth"])
@pytest.mark.parametrize(("min_support", "min_confidence", "max_len"), [(0.01, 0.1, None), (0.006, 0.3, 2)])
def test_fixture_equals_mlxtend_fpgrowth(fixture_baskets: pl.Series, engine: str, min_support: float,
                                         min_confidence: float, max_len: int | None) -> None:
    baskets = fixture_baskets.to_list()
    ref_itemsets, ref_rules = mlxtend_reference(baskets, min_support, min_confidence, max_len)
    result = mine(fixture_baskets, MiningConfig(engine=engine, min_support=min_support,
                                                min_confidence=min_confidence, max_len=max_len))
    assert result.itemsets.height == len(ref_itemsets) > 1000
    assert result.rules.height == len(ref_rules) > 1000
    assert_same_itemsets(result.itemsets, ref_itemsets)
    assert_same_rules(result.rules, ref_rules)
    assert result.rules["count"].to_list() == [round(s * len(baskets)) for s in result.rules["support"]]
    assert result.itemsets["count"].to_list() == [round(s * len(baskets)) for s in result.itemsets["support"]]


def _smallest_count(min_support: float, n: int) -> int:
    # Independent of min_count_for: scan every count.
    return next(c for c in range(n + 1) if c / n >= min_support)


baskets_strategy = st.integers(2, 7).flatmap(lambda k: st.lists(
    st.lists(st.sampled_from("abcdefg"[:k]), max_size=k + 1),  # repeats inside a basket count once
    min_size=1, max_size=40,
)).filter(lambda b: any(b))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(baskets=baskets_strategy, support_count=st.integers(1, 40),
       support_jitter=st.sampled_from([0.0, 1e-9, -1e-9, 0.3]),
       min_confidence=st.sampled_from([0.0, 0.1, 0.25, 1 / 3, 0.5, 2 / 3, 0.8, 1.0]),
       max_len=st.sampled_from([None, 1, 2, 3]))
def test_random_transactions_equal_mlxtend(baskets: list[list[str]], support_count: int, support_jitter: float,
                                           min_confidence: float, max_len: int | None) -> None:
    n = len(baskets)
    # Thresholds right on, just above and just below count / n, where a float test can go either way.
    min_support = min(1.0, max(1e-6, min(support_count, n) / n + support_jitter))
    assert min_count_for(min_support, n) == _smallest_count(min_support, n)
    cfg = MiningConfig(min_support=min_support, min_confidence=min_confidence, max_len=max_len)
    result = mine(baskets, cfg)
    # apriori applies mlxtend's float test `count / n >= min_support` to every itemset.
    ref_itemsets, ref_rules = mlxtend_reference([list(set(b)) for b in baskets], min_support, min_confidence,
                                                max_len, algorithm="apriori")
    assert_same_itemsets(result.itemsets, ref_itemsets)
    assert_same_rules(result.rules, ref_rules)
    # mlxtend's fpgrowth prunes its conditional trees at ceil(min_support * n) instead, which can
    # be one more than the float test's count (e.g. 0.07 * 100 = 7.000000000000001); where the two
    # agree it must match too.
    if math.ceil(min_support * n) == _smallest_count(min_support, n):
        fp_itemsets, fp_rules = mlxtend_reference([list(set(b)) for b in baskets], min_support, min_confidence, max_len)
        assert_same_itemsets(result.itemsets, fp_itemsets)
        assert_same_rules(result.rules, fp_rules)


@pytest.mark.parametrize("engine", ["mlxtend-fpgrowth", "mlxtend-apriori", "mlxtend-hmine", "fim-fpgrowth"])
@pytest.mark.parametrize("options", [{}, {"prune_redundant": True}, {"top_k": 5, "top_k_by": "leverage"},
                                     {"min_lift": 1.0, "antecedent_contains": ["a"]}])
def test_engines_agree_with_fim(engine: str, options: dict[str, object]) -> None:
    baskets = [["a", "b", "c"], ["a", "b"], ["a", "c", "d"], ["b", "c"], ["a", "b", "c", "d"], ["d"], ["a", "b", "d"]]
    cfg = dict(min_support=0.2, min_confidence=0.3, **options)
    ours = mine(baskets, MiningConfig(engine="fim", **cfg))
    other = mine(baskets, MiningConfig(engine=engine, **cfg))
    assert other.itemsets.equals(ours.itemsets)
    assert other.rules.equals(ours.rules)
    assert ours.rules.height >= 3
