"""Bad input gives one clear error; input forms agree; results save and plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from graphassoc.errors import DataError, UsageError
from graphassoc.mining import mine, rules_plot
from graphassoc.mining.config import MiningConfig

BASKETS = [["a", "b", "c"], ["a", "b"], ["a", "c", "d"], ["b", "c"], ["a", "b", "c", "d"], ["d"], ["a", "b", "d"]]


@pytest.mark.parametrize("baskets", [[], pl.Series([], dtype=pl.List(pl.String)), [[], []]])
def test_empty_input_is_a_data_error(baskets: object) -> None:
    with pytest.raises(DataError, match="empty|no baskets"):
        mine(baskets)  # type: ignore[arg-type]


def test_null_item_is_a_data_error() -> None:
    with pytest.raises(DataError, match="null item"):
        mine(pl.Series([["a", None]], dtype=pl.List(pl.String)))


def test_unknown_engine_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown engine 'nope'; valid: fim, fim-fpgrowth, mlxtend-fpgrowth") as err:
        mine(BASKETS, MiningConfig(engine="nope"))
    assert "\n" not in str(err.value)


def test_itemset_explosion_is_refused_with_one_line() -> None:
    # 16 items always bought together: 2^16 - 1 frequent itemsets at any support, plus {x}.
    baskets = [[f"i{j:02d}" for j in range(16)]] * 10 + [["x"]] * 10
    with pytest.raises(UsageError, match=r"65,536 frequent itemsets, more than mining.max_itemsets=10,000") as err:
        mine(baskets, MiningConfig(min_support=0.1, max_itemsets=10_000))
    assert "\n" not in str(err.value)
    assert mine(baskets, MiningConfig(min_support=0.1, max_itemsets=65_536, rules=False)).itemsets.height == 65_536
    assert mine(baskets, MiningConfig(min_support=0.1, max_len=2, max_itemsets=10_000)).itemsets.height == 16 + 120 + 1
    too_many = r"65,536 frequent itemsets split into 42,915,650 candidate rules, more than mining.max_rule_candidates="
    with pytest.raises(UsageError, match=too_many) as err:
        mine(baskets, MiningConfig(min_support=0.1, max_itemsets=65_536))  # 3^16 - 2^17 + 1 rules
    assert "\n" not in str(err.value)


def test_fpmax_refuses_rules_and_gives_mlxtends_maximal_itemsets() -> None:
    from mlxtend.frequent_patterns import fpmax
    from mlxtend.preprocessing import TransactionEncoder

    with pytest.raises(UsageError, match="maximal itemsets only.*mining.rules=false"):
        mine(BASKETS, MiningConfig(engine="mlxtend-fpmax"))
    result = mine(BASKETS, MiningConfig(engine="mlxtend-fpmax", min_support=0.25, rules=False))
    enc = TransactionEncoder()
    ref = fpmax(pd.DataFrame(enc.fit(BASKETS).transform(BASKETS), columns=enc.columns_), min_support=0.25,
                use_colnames=True)
    assert {tuple(s): sup for s, sup in zip(result.itemsets["itemsets"].to_list(), result.itemsets["support"])} == \
        {tuple(sorted(s)): sup for s, sup in zip(ref["itemsets"], ref["support"])}
    assert result.rules.height == 0


def test_input_forms_agree_and_repeats_count_once() -> None:
    messy = [list(reversed(b)) + b[:1] for b in BASKETS]  # unsorted, with a repeated item
    cfg = MiningConfig(min_support=0.2, min_confidence=0.3)
    reference = mine(pl.Series(BASKETS, dtype=pl.List(pl.String)), cfg)
    for other in (mine(BASKETS, cfg), mine(messy, cfg), mine(tuple(tuple(b) for b in BASKETS), cfg)):
        assert other.itemsets.equals(reference.itemsets)
        assert other.rules.equals(reference.rules)
    assert reference.n_baskets == 7 and reference.min_count == 2 and reference.min_support == 2 / 7


def test_giant_basket_does_not_overflow_the_size_check() -> None:
    giant = [f"g{j:04d}" for j in range(1100)]
    result = mine([giant, giant[:3], ["x"]], MiningConfig(min_support=0.6, rules=False))
    assert result.itemsets["itemsets"].to_list() == [["g0000"], ["g0000", "g0001"], ["g0000", "g0001", "g0002"],
                                                     ["g0000", "g0002"], ["g0001"], ["g0001", "g0002"], ["g0002"]]


def test_top_k_without_rules_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="top_k picks rules but mining.rules=false"):
        mine(BASKETS, MiningConfig(top_k=3, rules=False))


def test_progress_reports_the_steps() -> None:
    messages: list[str] = []
    mine(BASKETS, MiningConfig(min_support=0.2), progress=messages.append)
    assert messages[0] == "encoded 7 baskets over 4 items"
    assert messages[-1].startswith("13 itemsets, ")


def test_item_ids_must_be_text_or_castable() -> None:
    with pytest.raises(DataError, match="lists of item id strings"):
        mine([["a"], [1]])  # type: ignore[list-item]
    with pytest.raises(DataError, match="lists of item id strings, got String"):
        mine(pl.Series(["a", "b"]))
    ints = mine(pl.Series([[1, 2], [1, 2], [2]]), MiningConfig(min_support=0.5))
    assert ints.itemsets["itemsets"].to_list() == [["2"], ["1"], ["1", "2"]]


def test_required_item_never_seen_gives_no_rules() -> None:
    assert mine(BASKETS, MiningConfig(min_support=0.2, antecedent_contains=["zz"])).rules.height == 0


def test_save_writes_both_tables(tmp_path: Path) -> None:
    result = mine(BASKETS, MiningConfig(min_support=0.2, min_confidence=0.3))
    result.save(tmp_path)
    assert pl.read_parquet(tmp_path / "itemsets.parquet").equals(result.itemsets)
    assert pl.read_parquet(tmp_path / "rules.parquet").equals(result.rules)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["itemsets.parquet", "rules.parquet"]


def test_no_rules_gives_empty_tables_with_the_schema(tmp_path: Path) -> None:
    result = mine(BASKETS, MiningConfig(min_support=1.0))
    assert result.itemsets.height == 0 and result.rules.height == 0
    assert result.rules.schema["antecedents"] == pl.List(pl.String)
    assert result.rules.schema["conviction"] == pl.Float64
    rules_plot(result.rules, tmp_path / "none.png")
    assert (tmp_path / "none.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_of_100k_rules(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    rules = pl.DataFrame({"support": rng.uniform(0.005, 0.05, n), "confidence": rng.uniform(0.1, 1, n),
                          "lift": rng.lognormal(1, 1, n)})
    path = rules_plot(rules, tmp_path / "rules.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size < 2_000_000


def test_size_check_counts_exactly_only_when_the_sample_is_not_clearly_small(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphassoc.mining.stage as stage

    calls: list[int] = []
    real = stage.count_itemsets
    monkeypatch.setattr(stage, "count_itemsets", lambda enc, c, m: calls.append(enc.n) or real(enc, c, m))
    rng = np.random.default_rng(0)
    sparse = [[f"i{j:03d}" for j in rng.choice(200, size=30, replace=False)] for _ in range(4000)]
    assert mine(sparse, MiningConfig(min_support=0.05, max_itemsets=10_000, rules=False)).itemsets.height == 200
    assert calls == [4000 // stage.SAMPLE_FRACTION]  # the sample settled it

    calls.clear()
    block = [f"b{j:02d}" for j in range(18)]  # 2^18 - 1 itemsets in 600 of 2000 baskets
    dense = [block + [f"x{j}"] for j in range(600)] + [[f"y{j % 40}"] for j in range(1400)]
    with pytest.raises(UsageError, match=r"262,143 frequent itemsets, more than mining.max_itemsets=100,000"):
        mine(dense, MiningConfig(min_support=0.25, max_itemsets=100_000))
    assert calls == [2000 // stage.SAMPLE_FRACTION, 2000]  # the sample was not clearly small: counted exactly
