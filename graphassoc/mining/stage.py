"""The mining stage: baskets -> frequent itemsets + association rules (mlxtend's table, exactly).

Row order (deterministic, documented):
- itemsets: count descending, then the sorted item ids ascending (lexicographic);
- rules: confidence descending, lift descending, antecedents ascending, consequents ascending;
  with top_k, `top_k_by` descending first.

top_k (no support threshold to tune): the support count threshold starts at the second largest
item count (no rule can have more support) and is halved until at least k rules pass the
confidence / lift / item filters (and pruning), or the count reaches 1; the best k of that level
by `top_k_by` are returned. Rules only frequent below the final level are not considered, so the
result is "the best k rules among the most frequent ones", which keeps one-off coincidences with
huge lifts out. The count used is in MiningResult.min_count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl
import pyarrow as pa
from scipy.special import comb

from graphassoc.errors import UsageError
from graphassoc.mining.config import MiningConfig
from graphassoc.mining.encode import Baskets, EncodedBaskets, encode_baskets
from graphassoc.mining.engines import ENGINES, EngineParams, FoundItemsets, count_itemsets
from graphassoc.mining.itemset_table import ItemsetTable
from graphassoc.mining.rules import (RuleTable, contains_all, generate_rules, list_column, order, packed_keys,
                                     redundant_mask, rules_frame)
from graphassoc.runs import write_parquet

Progress = Callable[[str], None]
SAMPLE_FRACTION = 8  # check_size estimates the itemset count from >= 1 / SAMPLE_FRACTION of the baskets
SAMPLE_MIN_COUNT = 10  # ... at a proportional support count of at least this many baskets


@dataclass
class MiningResult:
    itemsets: pl.DataFrame  # itemsets list[str], support f64, count i64
    rules: pl.DataFrame  # antecedents, consequents list[str], count i64, mlxtend's measures
    n_baskets: int
    min_count: int  # itemsets kept: count >= min_count (== count / n_baskets >= min_support)
    engine: str

    @property
    def min_support(self) -> float:
        return self.min_count / self.n_baskets

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        write_parquet(directory / "itemsets.parquet", self.itemsets)
        write_parquet(directory / "rules.parquet", self.rules)


def min_count_for(min_support: float, n: int) -> int:
    """Smallest count c with c / n >= min_support in floating point: mlxtend's own test, exactly."""
    c = max(1, math.ceil(min_support * n))
    while c > 1 and (c - 1) / n >= min_support:
        c -= 1
    while c / n < min_support:
        c += 1
    return c


def mine(baskets: Baskets, cfg: MiningConfig | None = None, progress: Progress | None = None) -> MiningResult:
    """Frequent itemsets and association rules of `baskets` (lists of item ids) as configured."""
    cfg = cfg or MiningConfig()
    say = progress or (lambda _msg: None)
    ENGINES.get(cfg.engine)  # an unknown engine fails before any work
    if cfg.engine == "mlxtend-fpmax" and cfg.rules:
        raise UsageError("engine 'mlxtend-fpmax' finds maximal itemsets only, which lack the supports of their "
                         "subsets that rules need; set mining.rules=false or use engine 'fim'")
    if cfg.top_k is not None and not cfg.rules:
        raise UsageError("mining.top_k picks rules but mining.rules=false; drop one of the two")
    enc = encode_baskets(baskets)
    say(f"encoded {enc.n:,} baskets over {len(enc.items):,} items")
    if cfg.top_k is None:
        min_count = min_count_for(cfg.min_support, enc.n)
        check_size(enc, min_count, cfg)
        found, rules = _mine_at(enc, min_count, cfg.min_support, cfg, say)
    else:
        min_count, found, rules = _mine_top_k(enc, cfg, say)
    say(f"{len(found):,} itemsets, {len(rules):,} rules (support count >= {min_count})")
    items = pa.array(enc.items.tolist(), type=pa.large_string())
    return MiningResult(_itemsets_frame(found, items, enc.n), rules_frame(rules, items), enc.n, min_count, cfg.engine)


def check_size(enc: EncodedBaskets, min_count: int, cfg: MiningConfig) -> None:
    """UsageError when the frequent itemsets would be more than cfg.max_itemsets.

    Counting them exactly costs one more pass of pyfim (as long as mining them), so it is the
    last resort:
    1. a free upper bound: a frequent itemset lies in >= min_count baskets, so there are at most
       (sum over baskets of their subsets of frequent items, up to max_len) / min_count;
    2. an estimate from a random sample of the baskets at the proportional threshold: an eighth,
       or more so that the threshold is >= 10 baskets (at most half: beyond, 3. costs little more),
       trusted only with a 20x margin, since explosions are orders of magnitude; it costs a fraction
       of the mining pass, where the exact count of 3. would cost a whole one;
    3. otherwise the exact count, in C, without building the itemsets (pyfim's pattern spectrum).
    """
    keep = enc.item_counts() >= min_count
    per_basket = np.bincount(enc.basket_of(), weights=keep[enc.codes], minlength=enc.n)
    with np.errstate(over="ignore"):  # baskets of > 1023 frequent items: an infinite bound, rightly useless
        if cfg.max_len is None:
            subsets = np.exp2(per_basket) - 1
        else:
            subsets = sum(comb(per_basket, i) for i in range(1, cfg.max_len + 1))
        bound = float(np.sum(subsets)) / min_count
    if bound <= cfg.max_itemsets:
        return
    # The sample is large enough for its threshold to be >= SAMPLE_MIN_COUNT baskets (a smaller one
    # is noise); past half of the baskets it saves little over the exact count.
    fraction = max(1 / SAMPLE_FRACTION, SAMPLE_MIN_COUNT / min_count)
    if fraction <= 0.5:
        sample_size = int(enc.n * fraction)
        sample_count = math.ceil(min_count * sample_size / enc.n)
        rows = np.sort(np.random.default_rng(0).choice(enc.n, size=sample_size, replace=False))
        if count_itemsets(enc.take(rows), sample_count, cfg.max_len) <= cfg.max_itemsets / 20:
            return
    total = count_itemsets(enc, min_count, cfg.max_len)
    if total > cfg.max_itemsets:
        raise UsageError(
            f"support count >= {min_count} (min_support {min_count / enc.n:.3g}) gives {total:,} frequent itemsets, "
            f"more than mining.max_itemsets={cfg.max_itemsets:,}; raise mining.min_support, set mining.max_len, "
            "or raise mining.max_itemsets")


def _mine_at(enc: EncodedBaskets, min_count: int, min_support: float, cfg: MiningConfig,
             say: Progress) -> tuple[FoundItemsets, RuleTable]:
    params = EngineParams(min_count, min_support, cfg.max_len, cfg.min_confidence, cfg.rules)
    say(f"mining itemsets with {cfg.engine} (support count >= {min_count})")
    out = ENGINES.get(cfg.engine)(enc, params)
    if not cfg.rules:
        return out.itemsets, RuleTable.empty()
    table = None
    if out.rules is None or cfg.prune_redundant:
        table = ItemsetTable.from_rows(len(enc.items), out.itemsets.flat, out.itemsets.counts, out.itemsets.lengths)
    if out.rules is None:
        candidates = sum(len(c) * (2**k - 2) for k, c in table.counts.items())
        if candidates > cfg.max_rule_candidates:
            raise UsageError(f"{len(out.itemsets):,} frequent itemsets split into {candidates:,} candidate rules, more "
                             f"than mining.max_rule_candidates={cfg.max_rule_candidates:,}; set mining.max_len, raise "
                             "mining.min_support, or raise mining.max_rule_candidates")
    rules = out.rules if out.rules is not None else generate_rules(table, enc.n, cfg.min_confidence)
    rules = _filter(rules, enc, cfg)
    if cfg.prune_redundant and len(rules):
        rules = rules.take(np.flatnonzero(~redundant_mask(rules, table, enc.n)))
    return out.itemsets, rules.take(order(rules))


def _filter(rules: RuleTable, enc: EncodedBaskets, cfg: MiningConfig) -> RuleTable:
    keep = np.ones(len(rules), dtype=bool)
    if cfg.min_lift is not None:
        keep &= rules.measures["lift"] >= cfg.min_lift
    for required, rows in ((cfg.antecedent_contains, rules.ante), (cfg.consequent_contains, rules.cons)):
        if required:
            wanted = np.array(required, dtype=object)
            codes = np.minimum(np.searchsorted(enc.items, wanted), len(enc.items) - 1)
            # An item never seen cannot be in any rule: then no rule passes.
            keep &= contains_all(rows, codes) if np.all(enc.items[codes] == wanted) else False
    return rules if keep.all() else rules.take(np.flatnonzero(keep))


def _mine_top_k(enc: EncodedBaskets, cfg: MiningConfig, say: Progress) -> tuple[int, FoundItemsets, RuleTable]:
    assert cfg.top_k is not None
    counts = np.sort(enc.item_counts())[::-1]
    min_count = int(counts[1]) if len(counts) > 1 else 1
    best: tuple[int, FoundItemsets, RuleTable] | None = None
    while True:
        try:
            check_size(enc, min_count, cfg)
        except UsageError:
            if best is None:
                raise
            say(f"top-k: stopped at support count {best[0]} with {len(best[2])} rules; lower counts exceed "
                f"mining.max_itemsets={cfg.max_itemsets:,}")
            break
        found, rules = _mine_at(enc, min_count, min_count / enc.n, cfg, say)
        best = (min_count, found, rules)
        if len(rules) >= cfg.top_k or min_count == 1:
            break
        min_count = max(1, min_count // 2)
    min_count, found, rules = best
    top = order(rules, by=cfg.top_k_by)[: cfg.top_k]
    return min_count, found, rules.take(top)


def _itemsets_frame(found: FoundItemsets, items: pa.Array, n: int) -> pl.DataFrame:
    width = int(found.lengths.max()) if len(found) else 1
    rows = np.full((len(found), width), np.iinfo(np.int32).max, dtype=np.int32)
    rows[np.arange(width) < found.lengths[:, None]] = found.flat  # row-major fill keeps each itemset's codes
    rows = np.sort(rows, axis=1)
    rows[rows == np.iinfo(np.int32).max] = -1
    idx = np.lexsort(packed_keys(rows)[::-1] + [-found.counts])
    rows, counts = rows[idx], found.counts[idx]
    return pl.DataFrame({
        "itemsets": list_column(rows, items),
        "support": pl.Series(counts / float(n), dtype=pl.Float64),
        "count": pl.Series(counts, dtype=pl.Int64),
    })
