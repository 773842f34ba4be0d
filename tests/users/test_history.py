"""UserHistory against brute force on hand-made baskets: order, the strict time cut, decayed repeat vectors."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest

from graphassoc.errors import DataError
from graphassoc.users.history import NO_TIME, UserHistory, query_users, to_micros

INDEX = {"a": 0, "b": 1, "c": 2, "d": 3}


def baskets() -> pl.DataFrame:
    return pl.DataFrame({
        "basket_id": ["1", "2", "3", "4", "5"],
        "items": [["a", "b"], ["a"], ["c", "zz"], ["a", "d"], ["b"]],
        "timestamp": [datetime(2024, 1, d) for d in (1, 2, 3, 4, 5)],
        "user_id": ["u", "v", "u", "u", None],
        "split": ["train"] * 5,
    })


def test_rows_are_strictly_before_the_cut_and_oldest_first():
    h = UserHistory.from_baskets(baskets(), INDEX)
    assert [h.basket(r).tolist() for r in h.rows("u")] == [[0, 1], [2], [0, 3]]  # "zz" is not in the catalogue
    assert len(h.rows("u", to_micros(datetime(2024, 1, 3)))) == 1  # the basket AT the cut is not history
    assert len(h.rows("u", to_micros(datetime(2024, 1, 1)))) == 0
    assert len(h.rows("nobody")) == 0 and len(h.rows(None)) == 0


def test_repeat_matrix_matches_hand_computation():
    h = UserHistory.from_baskets(baskets(), INDEX)
    m = h.repeat_matrix(["u", "v", None], [NO_TIME] * 3, decay=0.5).toarray()
    # u's baskets, oldest first: {a,b} w=0.25, {c} w=0.5, {a,d} w=1; total 1.75
    np.testing.assert_allclose(m[0], np.array([1.25, 0.25, 0.5, 1.0]) / 1.75, rtol=1e-6)
    np.testing.assert_allclose(m[1], [1, 0, 0, 0])
    assert m[2].sum() == 0
    counts = h.repeat_matrix(["u"], [NO_TIME], decay=1.0, normalise=False).toarray()
    np.testing.assert_array_equal(counts[0], [2, 1, 1, 1])


def test_query_users_gives_user_and_time_per_basket():
    users, before = query_users(baskets(), ["4", "5"])
    assert users == ["u", None]
    assert before[0] == to_micros(datetime(2024, 1, 4))


def test_a_run_without_user_ids_says_so():
    with pytest.raises(DataError, match="no user ids"):
        UserHistory.from_baskets(baskets().with_columns(pl.lit(None, pl.Utf8).alias("user_id")), INDEX)


def test_rebuy_rates_match_hand_computation():
    h = UserHistory.from_baskets(baskets(), INDEX)
    # u: {a,b}, {c}, {a,d}; v: {a}. Later baskets holding the item again / later baskets since its first purchase:
    # a 1/2 (u; v has none after), b 0/2, c 0/1, d 0/0. Shop-wide 1/5, and a prior of 5 baskets at that rate.
    np.testing.assert_allclose(h.rebuy_rates(NO_TIME), [2 / 7, 1 / 7, 1 / 6, 1 / 5])
    np.testing.assert_allclose(h.rebuy_rates(NO_TIME, prior=1.0), [1.2 / 3, 0.2 / 3, 0.2 / 2, 0.2])
    # Before Jan 4 u has {a,b}, {c}: nothing is bought again yet.
    np.testing.assert_array_equal(h.rebuy_rates(to_micros(datetime(2024, 1, 4))), [0, 0, 0, 0])


def test_recent_keeps_the_newest_baskets_and_count_sees_them_all():
    h = UserHistory.from_baskets(baskets(), INDEX)
    assert h.count("u") == 3 and h.count("u", to_micros(datetime(2024, 1, 4))) == 2 and h.count("nobody") == 0
    assert [h.basket(r).tolist() for r in h.rows("u", recent=2)] == [[2], [0, 3]]
    assert [h.basket(r).tolist() for r in h.rows("u", to_micros(datetime(2024, 1, 4)), recent=1)] == [[2]]
    assert len(h.rows("u", recent=10)) == 3
