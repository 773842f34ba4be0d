from collections import Counter
from itertools import combinations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphassoc.graph.config import GraphConfig
from graphassoc.graph.copurchase import build_copurchase
from graphassoc.graph.views import to_networkx, to_pyg


def _brute_force(baskets: list[list[str]]) -> tuple[Counter, Counter]:
    pairs: Counter = Counter()
    singles: Counter = Counter()
    for basket in baskets:
        items = sorted(set(basket))
        singles.update(items)
        pairs.update(combinations(items, 2))
    return pairs, singles


def _graph(baskets: list[list[str]], catalog: list[str], min_count: int):
    items = pl.DataFrame({"item_id": catalog, "title": [f"T {i}" for i in catalog]})
    train = pl.DataFrame({"items": [sorted(set(b)) for b in baskets]}, schema={"items": pl.List(pl.String)})
    return build_copurchase(items, train, GraphConfig(min_count=min_count))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6), min_size=1, max_size=40),
       st.integers(1, 3))
def test_edges_equal_brute_force_pair_count(baskets: list[list[str]], min_count: int) -> None:
    catalog = list("abcdefghz")  # z: a catalogue item that never sells
    g = _graph(baskets, catalog, min_count)
    pairs, singles = _brute_force(baskets)
    n = len(baskets)
    expected = {p: c for p, c in pairs.items() if c >= min_count}
    got = {(r["src"], r["dst"]): r for r in g.edges.iter_rows(named=True)}
    assert set(got) == set(expected)
    for (a, b), row in got.items():
        c = expected[(a, b)]
        assert row["count"] == c
        assert row["support"] == pytest.approx(c / n)
        assert row["confidence_src_dst"] == pytest.approx(c / singles[a])
        assert row["confidence_dst_src"] == pytest.approx(c / singles[b])
        assert row["lift"] == pytest.approx((c / n) / ((singles[a] / n) * (singles[b] / n)))
        assert row["jaccard"] == pytest.approx(c / (singles[a] + singles[b] - c))
        if c < n:
            pmi = np.log((c / n) / ((singles[a] / n) * (singles[b] / n)))
            assert row["npmi"] == pytest.approx(pmi / -np.log(c / n))
    assert g.nodes["item_id"].to_list() == catalog
    degree = Counter([a for a, _ in expected] + [b for _, b in expected])
    assert g.nodes["degree"].to_list() == [degree.get(i, 0) for i in catalog]


def test_stats_and_views() -> None:
    g = _graph([["a", "b"], ["a", "b"], ["c", "d"], ["c", "d"], ["e"]], list("abcdez"), 2)
    s = g.stats()
    assert s["nodes"] == 6 and s["edges"] == 2 and s["isolated_nodes"] == 2
    assert s["components"] == 4  # {a,b}, {c,d}, {e}, {z}
    data = to_pyg(g.nodes, g.edges)
    assert data.num_nodes == 6 and data.edge_index.shape == (2, 4)
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (1, 0), (2, 3), (3, 2)]
    nxg = to_networkx(g.nodes, g.edges)
    assert set(nxg.nodes) == set("abcdez") and nxg.number_of_edges() == 2
    assert nxg["a"]["b"]["count"] == 2 and nxg.nodes["z"]["degree"] == 0


def _random_baskets(seed: int, n: int = 300, items: int = 40) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [[f"i{k:02d}" for k in rng.choice(items, size=rng.integers(1, 12), replace=False)] for _ in range(n)]


@pytest.mark.parametrize("block_entries", [1, 50, 10**9])
def test_pair_counts_in_many_blocks_equal_brute_force(block_entries: int) -> None:
    from graphassoc.graph.copurchase import basket_matrix, pair_counts

    baskets = _random_baskets(0)
    catalog = sorted({i for b in baskets for i in b})
    x = basket_matrix(pl.Series([sorted(b) for b in baskets]), {k: v for v, k in enumerate(catalog)}, len(catalog))
    i, j, c = pair_counts(x, min_count=3, block_entries=block_entries)
    pairs, _ = _brute_force(baskets)
    got = {(catalog[a], catalog[b]): int(n) for a, b, n in zip(i, j, c)}
    assert got == {p: n for p, n in pairs.items() if n >= 3}
    assert list(zip(i, j)) == sorted(zip(i, j))  # sorted by (src, dst) whatever the blocks


@pytest.mark.parametrize("k", [1, 3])
def test_top_k_keeps_each_items_heaviest_edges(k: int) -> None:
    baskets = _random_baskets(1, n=200, items=15)
    catalog = sorted({i for b in baskets for i in b})
    items = pl.DataFrame({"item_id": catalog, "title": catalog})
    train = pl.DataFrame({"items": [sorted(b) for b in baskets]})
    g = build_copurchase(items, train, GraphConfig(min_count=1, top_k=k))
    pairs, _ = _brute_force(baskets)
    # Reference: for each item, its k partners by count descending, then partner id ascending.
    wanted = set()
    for item in catalog:
        partners = sorted(((-n, b if a == item else a) for (a, b), n in pairs.items() if item in (a, b)))
        wanted |= {tuple(sorted((item, other))) for _, other in partners[:k]}
    got = {(r["src"], r["dst"]) for r in g.edges.iter_rows(named=True)}
    assert got == wanted
    assert all(r["count"] == pairs[(r["src"], r["dst"])] for r in g.edges.iter_rows(named=True))


def test_pair_counting_stops_before_a_block_that_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphassoc.memory import MemoryBudgetError

    monkeypatch.setenv("GRAPHASSOC_MEMORY_GB", "0.000001")  # ~1 KB available
    with pytest.raises(MemoryBudgetError, match="co-purchase pairs.*graph.min_count.*graph.top_k"):
        _graph(_random_baskets(2), [f"i{k:02d}" for k in range(40)], 1)
