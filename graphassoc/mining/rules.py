"""Association rules as arrays: vectorised generation from an itemset table, filters, pruning, order.

Rules are generated as mlxtend does (every split of every frequent itemset of >= 2 items into a
non-empty antecedent and consequent, multi-item consequents included), but block-wise: for the
k-itemsets and one bit mask saying which of the k positions form the antecedent, all rows at
once. That is at most 2^k - 2 numpy passes per length k, never a Python loop over rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from graphassoc.mining.itemset_table import ItemsetTable
from graphassoc.mining.measures import MEASURES, confidence, rule_measures


@dataclass
class RuleTable:
    """Rules with antecedent / consequent as code rows padded with -1 (codes ascending inside)."""

    ante: np.ndarray  # (r, w) int32
    cons: np.ndarray  # (r, w) int32
    count: np.ndarray  # (r,) int64: baskets holding antecedent and consequent
    measures: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.count)

    def take(self, idx: np.ndarray) -> RuleTable:
        return RuleTable(self.ante[idx], self.cons[idx], self.count[idx], {k: v[idx] for k, v in self.measures.items()})

    @classmethod
    def empty(cls) -> RuleTable:
        none = np.zeros((0, 1), dtype=np.int32)
        return cls(none, none, np.zeros(0, dtype=np.int64), {m: np.zeros(0) for m in MEASURES})


def _pad(blocks: list[np.ndarray], width: int) -> np.ndarray:
    out = np.full((sum(len(b) for b in blocks), width), -1, dtype=np.int32)
    start = 0
    for b in blocks:
        out[start:start + len(b), : b.shape[1]] = b
        start += len(b)
    return out


def generate_rules(table: ItemsetTable, n: int, min_confidence: float) -> RuleTable:
    """All rules with confidence >= min_confidence from the frequent itemsets of `table`."""
    antes, conses, c_ac, c_a, c_c = [], [], [], [], []
    for k in range(2, table.max_len() + 1):
        rows, count = table.by_len[k], table.counts[k]
        for mask in range(1, 2**k - 1):
            a_cols = [i for i in range(k) if mask >> i & 1]
            c_cols = [i for i in range(k) if not mask >> i & 1]
            count_a = table.count_of(rows[:, a_cols])
            keep = np.flatnonzero(confidence(count, count_a, n) >= min_confidence)
            if len(keep) == 0:
                continue
            kept = rows[keep]
            antes.append(kept[:, a_cols])
            conses.append(kept[:, c_cols])
            c_ac.append(count[keep])
            c_a.append(count_a[keep])
            c_c.append(table.count_of(kept[:, c_cols]))
    if not antes:
        return RuleTable.empty()
    width = max(table.max_len() - 1, 1)
    count_ac, count_a, count_c = (np.concatenate(x) for x in (c_ac, c_a, c_c))
    return RuleTable(_pad(antes, width), _pad(conses, width), count_ac, rule_measures(count_ac, count_a, count_c, n))


def contains_all(rows: np.ndarray, required: np.ndarray) -> np.ndarray:
    """Mask of the rows (padded code rows) that hold every code in required."""
    mask = np.ones(len(rows), dtype=bool)
    for code in required.tolist():
        mask &= (rows == code).any(axis=1)
    return mask


def redundant_mask(rules: RuleTable, table: ItemsetTable, n: int) -> np.ndarray:
    """True for a rule A -> C when some A' -> C with A' a proper non-empty subset of A has >= its confidence.

    The more general rules are looked up in the itemset table (all of them, whatever the rule
    filters kept): A' u C is a subset of the frequent A u C, so its count is there.
    """
    out = np.zeros(len(rules), dtype=bool)
    a_len = (rules.ante >= 0).sum(axis=1)
    c_len = (rules.cons >= 0).sum(axis=1)
    conf = rules.measures["confidence"]
    for a, c in np.unique(np.stack([a_len, c_len], axis=1)[a_len >= 2], axis=0).tolist():
        idx = np.flatnonzero((a_len == a) & (c_len == c))
        ante, cons = rules.ante[idx, :a], rules.cons[idx, :c]
        for mask in range(1, 2**a - 1):
            sub = ante[:, [i for i in range(a) if mask >> i & 1]]
            union = np.sort(np.concatenate([sub, cons], axis=1), axis=1)
            general = confidence(table.count_of(union), table.count_of(sub), n)
            out[idx] |= general >= conf[idx]
    return out


def packed_keys(rows: np.ndarray) -> list[np.ndarray]:
    """Padded code rows as few int64 sort keys (most significant first), same lexicographic order.

    Codes + 1 (padding -1 -> 0, so a shorter list sorts first) are digits in base max + 2,
    as many per key as fit in 62 bits: np.lexsort then compares 1-2 keys instead of one per column.
    """
    digits = rows.astype(np.int64) + 1
    base = int(digits.max(initial=0)) + 1
    per_key = max(1, int(62 // math.log2(max(base, 2))))
    keys = []
    for start in range(0, rows.shape[1], per_key):
        key = np.zeros(len(rows), dtype=np.int64)
        for j in range(start, min(start + per_key, rows.shape[1])):
            key = key * base + digits[:, j]
        keys.append(key)
    return keys


def order(rules: RuleTable, by: str | None = None) -> np.ndarray:
    """The documented row order: `by` (if given) descending, then confidence desc, lift desc,
    antecedent then consequent ascending (lexicographic on the sorted item ids)."""
    keys = packed_keys(rules.cons)[::-1] + packed_keys(rules.ante)[::-1]
    keys += [-rules.measures["lift"], -rules.measures["confidence"]]
    if by is not None:
        keys.append(-rules.measures[by])
    return np.lexsort(keys)


def list_column(rows: np.ndarray, items: pa.Array) -> pl.Series:
    """Padded code rows -> a polars list[str] column (one pyarrow take, no Python loop)."""
    valid = rows >= 0
    offsets = np.concatenate([[0], np.cumsum(valid.sum(axis=1))]).astype(np.int32)
    values = items.take(pa.array(rows[valid].astype(np.int64)))
    return pl.Series(pl.from_arrow(pa.ListArray.from_arrays(pa.array(offsets), values))).cast(pl.List(pl.String))


def rules_frame(rules: RuleTable, items: pa.Array) -> pl.DataFrame:
    columns = {
        "antecedents": list_column(rules.ante, items),
        "consequents": list_column(rules.cons, items),
        "count": pl.Series(rules.count, dtype=pl.Int64),
    }
    columns.update({m: pl.Series(np.asarray(rules.measures[m], dtype=np.float64), dtype=pl.Float64) for m in MEASURES})
    return pl.DataFrame(columns)
