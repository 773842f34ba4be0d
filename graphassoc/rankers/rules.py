"""The association-rules ranker: consequents of rules whose antecedent lies in the query."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.evaluate.protocol import exclude_query_items, query_matrix
from graphassoc.rankers.base import RANKERS, Ranker
from graphassoc.rankers.context import RankContext


def mine_rules(baskets: pl.DataFrame, ctx: RankContext) -> pl.DataFrame:
    """Rules over the evidence baskets with the rankers' settings, through the mining stage."""
    from graphassoc.mining import mine
    from graphassoc.mining.config import MiningConfig

    cfg = ctx.settings
    mining_cfg = MiningConfig(min_support=cfg.rules_min_support, min_confidence=cfg.rules_min_confidence,
                              max_len=cfg.rules_max_len)
    return mine(baskets["items"], mining_cfg).rules


def incidence(lists: list[list[str]], index: dict[str, int], n_items: int) -> sp.csr_matrix:
    """Lists of item ids (e.g. rules' antecedents) as a sparse 0/1 list x item matrix; unknown ids dropped."""
    rows = [[index[i] for i in items if i in index] for items in lists]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.asarray([i for r in rows for i in r], dtype=np.int64)
    return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), n_items))


@RANKERS.register("rules", "consequents of rules whose antecedent lies in the query (max confidence), popularity fallback")
class RulesRanker(Ranker):
    name = "rules"

    def fit(self, ctx: RankContext) -> "RulesRanker":
        self.n_items = ctx.n_items
        cfg = ctx.settings
        rules = mine_rules(ctx.evidence_baskets, ctx)
        known = set(ctx.item_index)
        self.rules = rules.filter(rules["antecedents"].list.eval(pl.element().is_in(list(known))).list.all()
                                  & rules["consequents"].list.eval(pl.element().is_in(list(known))).list.all())
        rules = self.rules
        self.order_by = cfg.rules_order
        self.antecedents = incidence(rules["antecedents"].to_list(), ctx.item_index, ctx.n_items)
        self.consequents = incidence(rules["consequents"].to_list(), ctx.item_index, ctx.n_items)
        self.ant_size = np.asarray(self.antecedents.sum(axis=1)).ravel()
        self.value = rules[self.order_by].to_numpy().astype(np.float32)
        # The fallback sits below every rule score (rule values are > 0) and orders by popularity.
        pop = ctx.popularity.astype(np.float64)
        self.fallback = (1e-6 * pop / max(pop.max(), 1.0)).astype(np.float32)
        self.notes = {"rules": int(rules.height), "order_by": self.order_by, "min_support": cfg.rules_min_support,
                      "min_confidence": cfg.rules_min_confidence, "max_len": cfg.rules_max_len}
        return self

    def rule_scores(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Best rule value per (query, item); 0 where no applicable rule names the item."""
        out = np.zeros((len(queries), self.n_items), dtype=np.float32)
        if len(self.value) == 0 or len(queries) == 0:
            return out
        inside = (query_matrix(queries, self.n_items) @ self.antecedents.T).tocoo()
        applies = inside.data == self.ant_size[inside.col]  # every antecedent item is in the query
        q, r = inside.row[applies], inside.col[applies]
        cons = self.consequents
        n_cons = np.diff(cons.indptr)[r]
        q_rep = np.repeat(q, n_cons)
        starts = np.repeat(cons.indptr[r], n_cons)
        offsets = np.arange(len(q_rep)) - np.repeat(np.cumsum(n_cons) - n_cons, n_cons)
        items = cons.indices[starts + offsets]
        np.maximum.at(out, (q_rep, items), np.repeat(self.value[r], n_cons))
        return out

    def answered(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Per query: does some applicable rule name an item outside the query?"""
        out = np.zeros(len(queries), dtype=bool)
        for start in range(0, len(queries), 1024):
            part = [np.asarray(q, dtype=np.int64) for q in queries[start:start + 1024]]
            ruled = exclude_query_items(self.rule_scores(part), part)
            out[start:start + len(part)] = ruled.max(axis=1) > 0
        return out

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return self.rule_scores(queries) + self.fallback[None, :]
