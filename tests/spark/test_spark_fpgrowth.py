"""Engine `spark` (pyspark.ml FPGrowth) finds fim's itemsets and rules, counts and measures exactly."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from graphassoc.mining import mine
from graphassoc.mining.config import MiningConfig
from graphassoc.mining.stage import min_count_for
from graphassoc.spark.fpgrowth import fpgrowth_support


def assert_same_as_fim(baskets: list[list[str]] | pl.Series, **cfg: object) -> int:
    ours = mine(baskets, MiningConfig(engine="spark", **cfg))
    ref = mine(baskets, MiningConfig(engine="fim", **cfg))
    assert_frame_equal(ours.itemsets, ref.itemsets, check_exact=True)
    assert_frame_equal(ours.rules, ref.rules, check_exact=True)
    assert ours.min_count == ref.min_count
    return ref.rules.height


def test_fixture_equals_fim(spark: object) -> None:
    from tests_spark_data import fixture_baskets

    assert assert_same_as_fim(fixture_baskets(), min_support=0.01, min_confidence=0.1) > 1000


def test_threshold_rounding_up_past_an_integer(spark: object) -> None:
    """0.07 * 100 = 7.000000000000001: Spark's own ceil(minSupport * n) would ask for 8 baskets and miss
    the pair bought in exactly 7, which the package's test (7 / 100 >= 0.07) keeps."""
    from pyspark.ml.fpm import FPGrowth

    baskets = [["a", "b"]] * 7 + [["a"]] * 10 + [["b"]] * 10 + [["c"]] * 73
    assert min_count_for(0.07, 100) == 7 and math.ceil(0.07 * 100) == 8
    frame = spark.createDataFrame([(b,) for b in baskets], ["items"])  # type: ignore[attr-defined]
    naive = {tuple(sorted(r["items"])) for r in FPGrowth(minSupport=0.07).fit(frame).freqItemsets.collect()}
    assert ("a", "b") not in naive  # the quirk the engine works around
    assert math.ceil(fpgrowth_support(7, 100) * 100) == 7
    result = mine(baskets, MiningConfig(engine="spark", min_support=0.07, min_confidence=0.0))
    assert ["a", "b"] in result.itemsets["itemsets"].to_list()
    assert_same_as_fim(baskets, min_support=0.07, min_confidence=0.0)


baskets_strategy = st.integers(2, 6).flatmap(lambda k: st.lists(
    st.lists(st.sampled_from("abcdef"[:k]), max_size=k + 1),  # repeats inside a basket count once
    min_size=1, max_size=30,
)).filter(lambda b: any(b))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(baskets=baskets_strategy, support_count=st.integers(1, 30),
       support_jitter=st.sampled_from([0.0, 1e-9, -1e-9, 0.3]),
       min_confidence=st.sampled_from([0.0, 0.25, 1 / 3, 0.8]), max_len=st.sampled_from([None, 1, 2]))
def test_random_transactions_equal_fim(spark: object, baskets: list[list[str]], support_count: int,
                                       support_jitter: float, min_confidence: float, max_len: int | None) -> None:
    n = len(baskets)
    min_support = min(1.0, max(1e-6, min(support_count, n) / n + support_jitter))
    assert_same_as_fim(baskets, min_support=min_support, min_confidence=min_confidence, max_len=max_len)


@pytest.mark.parametrize("min_count", [1, 2, 7, 1000, 123457])
@pytest.mark.parametrize("n", [1, 3, 100, 1_000_003, 2**40 + 1])
def test_support_maps_to_the_count(min_count: int, n: int) -> None:
    """ceil(minSupport * n) as Spark computes it is the package's count, for small and huge n."""
    if min_count <= n:
        assert math.ceil(fpgrowth_support(min_count, n) * n) == min_count
