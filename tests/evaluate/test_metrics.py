"""Metrics against values worked out by hand."""

import math

import numpy as np
import pytest

from graphassoc.evaluate import metrics


def test_per_query_metrics_match_hand_computed_values():
    ranks = np.array([1, 3, 7, 12, 50])
    m = metrics.per_query(ranks)
    assert m["hr@5"].tolist() == [1, 1, 0, 0, 0]
    assert m["hr@10"].tolist() == [1, 1, 1, 0, 0]
    assert m["hr@20"].tolist() == [1, 1, 1, 1, 0]
    assert m["recall@10"].tolist() == m["hr@10"].tolist()
    assert m["ndcg@5"] == pytest.approx([1.0, 0.5, 0, 0, 0])  # 1/log2(2), 1/log2(4)
    assert m["ndcg@10"] == pytest.approx([1.0, 0.5, 1 / 3, 0, 0])  # 1/log2(8) = 1/3
    assert m["ndcg@20"][3] == pytest.approx(1 / math.log2(13))
    assert m["mrr"] == pytest.approx([1, 1 / 3, 1 / 7, 1 / 12, 1 / 50])
    assert m["mrr"].mean() == pytest.approx((1 + 1 / 3 + 1 / 7 + 1 / 12 + 1 / 50) / 5)


def test_coverage_and_popularity_bias():
    top = np.array([[0, 1], [1, 2]])
    assert metrics.coverage(top, n_items=8, k=2) == pytest.approx(3 / 8)
    pop = np.array([10, 0, 0, 5])  # percentiles: 0 and 0 tie at rank 0.5 -> 0.5/3; 5 -> 2/3; 10 -> 1
    bias = metrics.popularity_bias(np.array([[0, 1], [3, 2]]), pop, k=2)
    assert bias["mean_popularity@10"] == pytest.approx((10 + 0 + 5 + 0) / 4)
    assert bias["popularity_percentile@10"] == pytest.approx((1 + 0.5 / 3 + 2 / 3 + 0.5 / 3) / 4)


def test_strata_boundaries():
    s = metrics.strata(np.array([0, 1, 5, 6, 0]), np.array([True, False, False, False, False]))
    assert s["cold"].tolist() == [True, False, False, False, True]
    assert s["sparse"].tolist() == [False, True, True, False, False]
    assert s["warm"].tolist() == [False, False, False, True, False]
    assert s["never_seen"].tolist() == [True, False, False, False, False]


def test_bootstrap_interval_contains_mean_and_matches_normal_approximation():
    rng = np.random.default_rng(0)
    values = (rng.random(4000) < 0.3).astype(float)
    w = metrics.bootstrap_weights(len(values), 2000, seed=1)
    assert (w.sum(axis=1) == len(values)).all()
    est = metrics.interval(values, w)
    se = math.sqrt(values.mean() * (1 - values.mean()) / len(values))
    assert est.low < est.mean < est.high
    assert est.high - est.low == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_paired_difference_detects_a_real_gap_and_not_a_null_one():
    rng = np.random.default_rng(0)
    a = (rng.random(3000) < 0.4).astype(float)
    better = np.maximum(a, (rng.random(3000) < 0.2))
    w = metrics.bootstrap_weights(3000, 1000, seed=2)
    diff = metrics.paired_difference(better, a, w)
    assert diff["significant"] and diff["low"] > 0
    assert diff["mean"] == pytest.approx(better.mean() - a.mean())
    same = metrics.paired_difference(a, a, w)
    assert not same["significant"] and same["mean"] == 0


def test_item_to_basket_metrics_with_several_hidden_items():
    ranks = [np.array([2, 15]), np.array([30, 40, 50]), np.array([1, 2, 3])]
    m = metrics.per_query_multi(ranks)
    assert m["hr@10"].tolist() == [1, 0, 1]
    assert m["recall@10"] == pytest.approx([1 / 2, 0, 1])
    assert m["recall@20"] == pytest.approx([1, 0, 1])
    # ndcg@10 of query 1: one hit at rank 2 over the ideal of 2 hits at ranks 1 and 2
    assert m["ndcg@10"][0] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["ndcg@10"][2] == pytest.approx(1.0)
    assert m["mrr"] == pytest.approx([1 / 2, 1 / 30, 1])
