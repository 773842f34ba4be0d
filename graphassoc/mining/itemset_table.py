"""Frequent itemsets as code matrices (one per length) with vectorised support look-ups.

A k-itemset is the row of a (m_k, k) int32 matrix, codes ascending. Look-ups need no hashing of
tuples: each itemset gets an id (its rank in its length's table), and a k-itemset's key is
`id(its (k-1)-prefix) * n_codes + last code`. Every prefix of a frequent itemset is frequent
(downward closure), so a k-subset is found by k - 1 binary searches, all vectorised, and the keys
stay below m_(k-1) * n_codes (no overflow, whatever k).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ItemsetTable:
    n_codes: int
    by_len: dict[int, np.ndarray]  # k -> (m_k, k) int32, rows ascending inside, sorted by key
    counts: dict[int, np.ndarray]  # k -> (m_k,) int64, aligned with by_len[k]
    _keys: dict[int, np.ndarray] = field(default_factory=dict)  # k >= 2 -> sorted int64 keys

    @classmethod
    def from_rows(cls, n_codes: int, rows: list[np.ndarray] | np.ndarray, counts: np.ndarray,
                  lengths: np.ndarray | None = None) -> ItemsetTable:
        """Build from flat codes + lengths (or a list of code arrays), codes in any order inside a row."""
        if lengths is None:
            lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
            flat = np.concatenate(rows).astype(np.int32) if len(rows) else np.zeros(0, np.int32)
        else:
            flat = np.asarray(rows, dtype=np.int32)
        counts = np.asarray(counts, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        table = cls(n_codes=n_codes, by_len={}, counts={})
        for k in np.unique(lengths).tolist():
            sel = np.flatnonzero(lengths == k)
            mat = np.sort(flat[starts[sel][:, None] + np.arange(k)], axis=1).astype(np.int32)
            table._add(int(k), mat, counts[sel])
        return table

    def _add(self, k: int, mat: np.ndarray, counts: np.ndarray) -> None:
        if k == 1:
            order = np.argsort(mat[:, 0], kind="stable")
            self.by_len[1], self.counts[1] = mat[order], counts[order]
            return
        if k - 1 not in self.by_len:
            raise ValueError(f"{k}-itemsets without their {k - 1}-subsets: the itemsets are not downward closed")
        keys = self._ids(mat[:, :-1]) * self.n_codes + mat[:, -1]
        order = np.argsort(keys, kind="stable")
        self.by_len[k], self.counts[k], self._keys[k] = mat[order], counts[order], keys[order]

    def _ids(self, rows: np.ndarray) -> np.ndarray:
        """Row index (in by_len[k]) of each k-itemset in rows (m, k); every row must be frequent."""
        singles = self.by_len[1][:, 0]
        ids = np.searchsorted(singles, rows[:, 0]).astype(np.int64)
        for j in range(1, rows.shape[1]):
            ids = np.searchsorted(self._keys[j + 1], ids * self.n_codes + rows[:, j])
        return ids

    def count_of(self, rows: np.ndarray) -> np.ndarray:
        """Support counts of the itemsets in rows (m, k), codes ascending inside each row."""
        if rows.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        ids = self._ids(rows)
        k = rows.shape[1]
        found = self.by_len[k][np.minimum(ids, len(self.counts[k]) - 1)]
        if not np.array_equal(found, rows):
            raise ValueError("look-up of an itemset that is not frequent: the itemsets are not downward closed")
        return self.counts[k][ids]

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.counts.values())

    def max_len(self) -> int:
        return max(self.by_len, default=0)
