"""Why an item was recommended: the best rule, the co-purchase count, the text similarity, the ranker.

Every lookup goes through indexes built once per run directory (a sparse rule x item incidence
matrix, rule rows grouped by consequent item, a sparse co-purchase matrix, the embedding matrix),
so explaining k items of a query costs one sparse product and a few small array reads, never a
scan of the rules table.

The rules are the run's mined rules (rules.parquet) and the counts the co-purchase graph's
edges (graph/edges.parquet): both come from the TRAIN baskets only, as build-graph wrote them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.rankers.rules import incidence  # the rules ranker's id-list -> sparse incidence

RULE_MEASURES = ("support", "confidence", "lift")


@dataclass
class RuleEvidence:
    antecedents: list[str]
    consequents: list[str]
    support: float
    confidence: float
    lift: float
    count: int  # train baskets holding antecedents and consequents together


@dataclass
class Evidence:
    ranker: str  # which ranker scored the item
    rule: RuleEvidence | None  # best rule with antecedent inside the query naming the item; None: no rule
    copurchase_count: int  # sum over query items of train baskets holding both (graph edges)
    copurchased_with: str | None  # the query item it was bought with most often
    text_similarity: float | None  # max encoder cosine to a query item (or to the search text)
    similar_to: str | None  # the query item that cosine belongs to (None for a search text)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RuleIndex:
    """Rules by consequent item, best first, and a rule x item antecedent matrix for subset tests."""

    def __init__(self, rules: pl.DataFrame, item_index: dict[str, int], order_by: str = "confidence") -> None:
        self.n_items = len(item_index)
        self.rules = rules
        self.antecedents = incidence(rules["antecedents"].to_list(), item_index, self.n_items)
        self.ant_size = np.diff(self.antecedents.indptr)
        # A rule whose antecedent mentions an item outside the catalogue can never apply.
        full = np.asarray([len(a) for a in rules["antecedents"].to_list()])
        self.ant_size = np.where(self.ant_size == full, self.ant_size, -1)
        consequents = incidence(rules["consequents"].to_list(), item_index, self.n_items).tocsc()
        # Best rule first: by the ordering measure, then lift/confidence, then count.
        second = "lift" if order_by == "confidence" else "confidence"
        rank_keys = [rules[c].to_numpy() for c in ("count", second, order_by)]
        best_first = np.lexsort([-k for k in rank_keys])
        position = np.empty(len(best_first), dtype=np.int64)
        position[best_first] = np.arange(len(best_first))
        # by_item[j]: rows naming item j among their consequents, best first.
        self.by_item: list[np.ndarray] = []
        for j in range(self.n_items):
            rows = consequents.indices[consequents.indptr[j]:consequents.indptr[j + 1]]
            self.by_item.append(rows[np.argsort(position[rows], kind="stable")])
        self.measures = {m: rules[m].to_numpy() for m in RULE_MEASURES}
        # Per-request lookups read these (a served query explains k items): plain lists, and the
        # antecedents by item (CSC), so a query touches only the rules that mention its items.
        self.antecedent_lists, self.consequent_lists = rules["antecedents"].to_list(), rules["consequents"].to_list()
        self.by_antecedent = self.antecedents.tocsc()
        self.count = rules["count"].to_numpy() if "count" in rules.columns else np.zeros(rules.height, dtype=np.int64)

    def applicable(self, query: np.ndarray) -> np.ndarray:
        """Boolean per rule: every antecedent item is in the query."""
        cols, query = self.by_antecedent, np.unique(np.asarray(query, dtype=np.int64))
        rows = np.concatenate([cols.indices[cols.indptr[i]:cols.indptr[i + 1]] for i in query]) if len(query) else []
        return np.bincount(np.asarray(rows, dtype=np.int64), minlength=len(self.ant_size)) == self.ant_size

    def best(self, applies: np.ndarray, item: int) -> RuleEvidence | None:
        rows = self.by_item[item]
        hits = rows[applies[rows]]
        if len(hits) == 0:
            return None
        r = int(hits[0])
        return RuleEvidence(
            antecedents=list(self.antecedent_lists[r]), consequents=list(self.consequent_lists[r]),
            support=float(self.measures["support"][r]), confidence=float(self.measures["confidence"][r]),
            lift=float(self.measures["lift"][r]), count=int(self.count[r]))


def copurchase_matrix(edges: pl.DataFrame, n_items: int) -> sp.csr_matrix:
    """Symmetric item x item matrix of train co-purchase counts (edges store each pair once)."""
    src = edges["src_idx"].to_numpy().astype(np.int64)
    dst = edges["dst_idx"].to_numpy().astype(np.int64)
    count = edges["count"].to_numpy().astype(np.int64)
    upper = sp.coo_matrix((count, (src, dst)), shape=(n_items, n_items))
    return (upper + upper.T).tocsr()


class Explainer:
    """Evidence for recommended items; embeddings are optional (no text column without them)."""

    def __init__(self, item_ids: list[str], rules: RuleIndex, copurchase: sp.csr_matrix,
                 embeddings: np.ndarray | None = None) -> None:
        self.item_ids = item_ids
        self.rules = rules
        self.copurchase = copurchase
        self.embeddings = embeddings

    def explain(self, query: Sequence[int], items: Sequence[int], ranker: str | Sequence[str],
                text_vector: np.ndarray | None = None) -> list[Evidence]:
        """Evidence of each item given the query item indices; `ranker` names the ranker (one per item or one for all).

        `text_vector` (an encoded search text) makes the text similarity the cosine to that text
        instead of the max over query items. An item that is itself in the query (free-text search,
        where the query is the top text matches) is compared with the other query items only.
        """
        query = np.unique(np.asarray(query, dtype=np.int64))
        items = np.asarray(items, dtype=np.int64)
        if len(items) == 0:
            return []
        applies = self.rules.applicable(query) if len(query) else np.zeros(len(self.rules.ant_size), dtype=bool)
        self_mask = query[None, :] == items[:, None]  # (k, |q|)
        counts = np.zeros((len(items), len(query)), dtype=np.int64)
        if len(query):
            counts = np.asarray(self.copurchase[items][:, query].toarray(), dtype=np.int64)
        sims = partners = None
        if self.embeddings is not None:
            if text_vector is not None:
                sims = self.embeddings[items] @ np.asarray(text_vector, dtype=np.float32)
            elif len(query):
                pair = self.embeddings[items] @ self.embeddings[query].T
                pair[self_mask] = -np.inf
                partners = pair.argmax(axis=1)
                sims = pair[np.arange(len(items)), partners]
        labels = [ranker] * len(items) if isinstance(ranker, str) else list(ranker)
        out = []
        for row, item in enumerate(items):
            best_partner = int(counts[row].argmax()) if len(query) else -1
            sim = None if sims is None or not np.isfinite(sims[row]) else round(float(sims[row]), 4)
            similar_to = None
            if partners is not None and sim is not None:
                similar_to = self.item_ids[int(query[partners[row]])]
            out.append(Evidence(
                ranker=labels[row],
                rule=self.rules.best(applies, int(item)),
                copurchase_count=int(counts[row].sum()),
                copurchased_with=self.item_ids[int(query[best_partner])] if counts[row].sum() > 0 else None,
                text_similarity=sim,
                similar_to=similar_to,
            ))
        return out
