"""The leave-one-out protocol: queries, exclusion of query items, ranks and tie-breaking."""

from datetime import datetime

import numpy as np
import polars as pl
import pytest

from graphassoc.evaluate import protocol


def _baskets():
    return pl.DataFrame({
        "basket_id": ["b1", "b2", "b3", "b4", "b5"],
        "items": [["a", "b", "c"], ["a", "b"], ["c"], ["a", "d", "zz"], ["b", "c", "d"]],
        "timestamp": [datetime(2011, 1, d) for d in (1, 2, 3, 4, 5)],
        "user_id": [None] * 5,
        "split": ["train", "train", "test", "test", "test"],
    })


INDEX = {"a": 0, "b": 1, "c": 2, "d": 3}


def test_leave_one_out_hides_one_catalogue_item_per_basket_of_the_split():
    q = protocol.leave_one_out(_baskets(), INDEX, "test", seed=0)
    # b3 has one item; b4's "zz" is not in the catalogue, so b4 keeps 2 items.
    assert q.basket_ids == ["b4", "b5"]
    full = {"b4": {0, 3}, "b5": {1, 2, 3}}
    for bid, query, target in zip(q.basket_ids, q.query, q.target):
        assert target not in query
        assert set(query.tolist()) | {int(target)} == full[bid]
    again = protocol.leave_one_out(_baskets(), INDEX, "test", seed=0)
    assert again.target.tolist() == q.target.tolist()


def test_hidden_item_is_spread_over_positions():
    rows = pl.DataFrame({"basket_id": [str(i) for i in range(400)], "items": [["a", "b", "c", "d"]] * 400,
                         "timestamp": [None] * 400, "split": ["test"] * 400})
    q = protocol.leave_one_out(rows, INDEX, "test", seed=3)
    counts = np.bincount(q.target, minlength=4)
    assert counts.min() > 60  # each of 4 positions about 100 times


def test_evaluate_never_ranks_a_query_item_and_ranks_targets_correctly():
    # The ranker scores query items highest; exclusion must push them out of the top lists.
    n_items = 6
    base = np.array([0.9, 0.8, 0.7, 0.1, 0.1, 0.0], dtype=np.float32)

    def score(batch):
        return np.tile(base, (len(batch), 1))

    q = protocol.Queries("test", ["x", "y"], [np.array([0, 1]), np.array([2])], np.array([4, 3]))
    pos = protocol.tiebreak_positions(np.array([0, 0, 0, 1, 5, 0]))  # item 4 more popular than 3
    r = protocol.evaluate(score, q, pos, k=4)
    for query, top in zip(q.query, r.top):
        assert not set(query.tolist()) & set(top.tolist())
    # query x: remaining 2 (0.7), then 3 and 4 tie at 0.1 -> 4 first (more popular), so target 4 has rank 2
    assert r.top[0].tolist() == [2, 4, 3, 5]
    # query y: 0, 1, then 4 before 3 -> target 3 has rank 4
    assert r.ranks.tolist() == [2, 4]
    assert r.top[1].tolist()[:4] == [0, 1, 4, 3]


def test_ranks_agree_with_top_lists_on_random_scores_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(50, 30)).astype(np.float32)
    target = rng.integers(0, 30, size=50)
    pos = protocol.tiebreak_positions(rng.integers(0, 5, size=30))
    ranks = protocol.rank_of_targets(scores, target, pos)
    top = protocol.top_k(scores, 30, pos)
    for i in range(50):
        assert top[i].tolist().index(target[i]) + 1 == ranks[i]


def test_nan_scores_are_never_recommended():
    scores = np.array([[np.nan, 0.5, 0.2]], dtype=np.float32)
    q = protocol.Queries("test", ["x"], [np.array([2])], np.array([1]))
    r = protocol.evaluate(lambda b: scores, q, protocol.tiebreak_positions(np.zeros(3)), k=2)
    assert r.top[0].tolist() == [1, 0] and r.ranks.tolist() == [1]


def test_target_cooccurrence_counts_history_baskets_with_target_and_a_query_item():
    hist = protocol.basket_matrix(pl.DataFrame({"items": [["a", "b"], ["a", "c"], ["b"], ["c", "d"], ["a", "b", "d"]]}),
                                  INDEX, 4)
    q = protocol.Queries("test", ["1", "2", "3"], [np.array([0]), np.array([2, 3]), np.array([0])], np.array([1, 0, 3]))
    # target b with query {a}: baskets 1 and 5; target a with {c, d}: baskets 2 and 5; target d with {a}: basket 5
    assert protocol.target_cooccurrence(hist, q).tolist() == [2, 2, 1]
    assert protocol.history_popularity(hist).tolist() == [3, 3, 2, 2]


def test_basket_matrix_is_binary_and_deduplicated():
    m = protocol.basket_matrix(pl.DataFrame({"items": [["a", "a", "b"], []]}), INDEX, 4)
    assert m.toarray().tolist() == [[1, 1, 0, 0], [0, 0, 0, 0]]


def test_item_to_basket_asks_one_item_for_the_rest_and_ranks_every_target():
    q = protocol.item_to_basket(_baskets(), INDEX, "test", seed=0)
    assert q.basket_ids == ["b4", "b5"]
    for query, targets in zip(q.query, q.targets):
        assert len(query) == 1 and query[0] not in targets
    scores = np.array([0.1, 0.9, 0.5, 0.3], dtype=np.float32)
    ranks = protocol.evaluate_multi(lambda b: np.tile(scores, (len(b), 1)), q, protocol.tiebreak_positions(np.zeros(4)))
    for query, targets, r in zip(q.query, q.targets, ranks):
        order = [i for i in np.argsort(-scores, kind="stable") if i not in query]
        assert r.tolist() == [order.index(t) + 1 for t in targets]


def test_a_block_of_scores_too_big_stops_naming_the_chunk_size(monkeypatch):
    from graphassoc.evaluate.protocol import Queries, evaluate
    from graphassoc.memory import MemoryBudgetError

    monkeypatch.setenv("GRAPHASSOC_MEMORY_GB", "0.0001")  # ~100 KB: 512 queries x 1,000 items do not fit
    queries = Queries("test", ["b"] * 600, [np.array([0])] * 600, np.ones(600, dtype=np.int64))
    called = []
    with pytest.raises(MemoryBudgetError, match="evaluate.chunk_size"):
        evaluate(lambda q: called.append(1) or np.zeros((len(q), 1000), np.float32), queries, np.arange(1000))
    assert not called  # stopped before scoring anything


@pytest.mark.parametrize("ties", [True, False])
def test_item_to_basket_ranks_do_not_depend_on_the_block_size(ties: bool):
    """Brute force: rank = 1 + items scored higher + tied items earlier in the tie-break, per target."""
    from graphassoc.evaluate.protocol import MultiQueries, evaluate_multi

    rng = np.random.default_rng(5)
    n = 30
    # many ties (and -inf scores), or none: the sorted-row search and its tie pass both checked
    table = rng.integers(0, 4, size=(40, n)).astype(np.float32) if ties else rng.normal(size=(40, n)).astype(np.float32)
    if ties:
        table[rng.random((40, n)) < 0.1] = -np.inf
    targets = [rng.choice(np.arange(1, n), size=rng.integers(1, 6), replace=False) for _ in range(40)]
    q = MultiQueries("test", [str(i) for i in range(40)], [np.array([0])] * 40, targets)
    pos = protocol.tiebreak_positions(rng.integers(0, 9, n))
    calls = iter(range(1000))

    def score(batch):  # row i of the table for the i-th query asked, in order
        return np.stack([table[next(calls)] for _ in batch])

    got = evaluate_multi(score, q, pos, chunk=3)
    for i, (row, t) in enumerate(zip(table, targets)):
        row = row.copy()
        row[0] = -np.inf
        expect = [1 + (row > row[j]).sum() + ((row == row[j]) & (pos < pos[j])).sum() for j in t]
        assert got[i].tolist() == expect


def test_sample_split_cuts_only_that_split_to_a_seeded_subset() -> None:
    import polars as pl

    from graphassoc.evaluate.protocol import sample_split

    splits = ["train"] * 30 + ["valid"] * 5 + ["test"] * 40
    baskets = pl.DataFrame({"basket_id": [f"b{i}" for i in range(75)], "split": splits,
                            "items": [["a", "b"]] * 75})
    cut = sample_split(baskets, "test", 10, seed=3)
    assert cut.filter(pl.col("split") == "test").height == 10
    assert cut.filter(pl.col("split") != "test").sort("basket_id").equals(
        baskets.filter(pl.col("split") != "test").sort("basket_id"))
    assert set(cut["basket_id"]) <= set(baskets["basket_id"])
    assert cut.equals(sample_split(baskets, "test", 10, seed=3))
    assert not cut.equals(sample_split(baskets, "test", 10, seed=4))
    assert sample_split(baskets, "test", 40, seed=3) is baskets and sample_split(baskets, "test", None, 3) is baskets


def test_draws_stay_within_the_query_cap():
    assert protocol.draws_within(3, 25_000, 5_200) == 3  # the shared data: every draw
    assert protocol.draws_within(3, 25_000, 9_000) == 2
    assert protocol.draws_within(3, 25_000, 23_268) == 1  # x16: one draw, never none
    assert protocol.draws_within(3, 25_000, 60_000) == 1
    assert protocol.draws_within(3, None, 60_000) == 3
