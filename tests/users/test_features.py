"""The learned reranker's candidates and features, against a hand computation on a three-basket customer."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from graphassoc.users.features import FEATURES, candidates
from graphassoc.users.history import UserHistory, to_micros

from .test_history import INDEX, baskets


def test_candidate_features_match_a_hand_computation():
    h = UserHistory.from_baskets(baskets(), INDEX)  # u, oldest first: [0, 1] Jan 1, [2] Jan 3, [0, 3] Jan 4
    rows = h.rows("u")
    base_z = np.array([-1.0, -np.inf, 0.5, 2.0])  # the query's item 1 at -inf
    now = to_micros(datetime(2024, 1, 6))
    got = candidates(h, rows, np.array([1]), base_z, None, np.array([3.0, 2.0, 1.0, 1.0]), now, n_base=1, n_history=3)
    assert got.items.tolist() == [0, 2, 3]  # the base's best (3) and every past item but the query's own
    f = {name: got.features[:, k] for k, name in enumerate(FEATURES)}
    decayed = np.array([0.49 + 1.0, 0.7, 1.0]) / (1 + 0.7 + 0.49)  # newest basket 1, then 0.7, 0.49
    np.testing.assert_allclose(f["share"], [2 / 3, 1 / 3, 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(f["share_recent"], decayed, rtol=1e-6)
    np.testing.assert_allclose(f["count_log"], np.log1p([2, 1, 1]), rtol=1e-6)
    np.testing.assert_array_equal(f["baskets_since"], [0, 1, 0])
    np.testing.assert_allclose(f["days_since"], [2, 3, 2], rtol=1e-6)
    np.testing.assert_allclose(f["similar_share"], [1, 0, 0], atol=1e-6)  # only [0, 1] shares the query's item
    np.testing.assert_array_equal(f["in_history"], [1, 1, 1])
    np.testing.assert_allclose(f["base_z"], [-1.0, 0.5, 2.0])
    np.testing.assert_allclose(f["base_log_rank"], np.log([3, 2, 1]), rtol=1e-6)


def test_history_candidates_keep_the_most_recent_and_their_own_features():
    h = UserHistory.from_baskets(baskets(), INDEX)
    base_z = np.array([-1.0, -np.inf, 0.5, 2.0])
    got = candidates(h, h.rows("u"), np.array([1]), base_z, None, np.ones(4), 0, n_base=1, n_history=2)
    # 0 and 3 were bought in the newest basket, 2 before it: 2 drops out of the history candidates
    # and, not being the base's best either, out of the candidates.
    assert got.items.tolist() == [0, 3]
    f = {name: got.features[:, k] for k, name in enumerate(FEATURES)}
    np.testing.assert_allclose(f["share"], [2 / 3, 1 / 3], rtol=1e-6)
    np.testing.assert_array_equal(f["baskets_since"], [0, 0])


def test_a_customer_whose_past_items_are_all_in_the_query_has_no_history_features():
    # The reranker crashed here (it bisected an empty past-item array) on the shared data's validation.
    h = UserHistory.from_baskets(baskets(), INDEX)  # u bought items 0-3 before; item 4 is a fifth catalogue item
    query = np.array([0, 1, 2, 3])
    base_z = np.array([-np.inf, -np.inf, -np.inf, -np.inf, 1.0])
    got = candidates(h, h.rows("u"), query, base_z, None, np.ones(5), 0, n_base=5, n_history=5)
    f = {name: got.features[:, k] for k, name in enumerate(FEATURES)}
    assert got.items.tolist() == [4]
    np.testing.assert_array_equal(f["in_history"], [0])
    np.testing.assert_allclose(f["user_baskets_log"], np.log1p(len(h.rows("u"))))  # still a returning customer
