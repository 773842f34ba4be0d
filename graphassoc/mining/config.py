"""Config of the mining stage (frequent itemsets and association rules)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from graphassoc.data.config import StrictModel


class MiningConfig(StrictModel):
    # `graphassoc ls engines` lists them; "fim" (pyfim, C) is exact and fast, "mlxtend-*" are the reference.
    engine: str = "fim"
    # An itemset is frequent when count / n_baskets >= min_support (mlxtend's float test, kept exactly).
    min_support: float = Field(default=0.005, gt=0.0, le=1.0)
    min_confidence: float = Field(default=0.1, ge=0.0, le=1.0)
    max_len: int | None = Field(default=None, ge=1)
    min_lift: float | None = Field(default=None, ge=0.0)
    # Keep only rules whose antecedent / consequent contains all of these item ids.
    antecedent_contains: list[str] = Field(default_factory=list)
    consequent_contains: list[str] = Field(default_factory=list)
    # Top-k rules by a measure with no support threshold to tune: min_support is ignored and the
    # support count is halved from the top until k rules pass the other filters (see mining.topk).
    top_k: int | None = Field(default=None, ge=1)
    top_k_by: Literal["lift", "confidence", "support", "leverage", "conviction", "zhangs_metric"] = "lift"
    # Drop a rule when a more general rule (antecedent a proper subset, same consequent) has >= its confidence.
    prune_redundant: bool = False
    # False mines itemsets only (the only mode of mlxtend-fpmax, whose maximal itemsets lack the
    # supports of their subsets that rules need).
    rules: bool = True
    # Refuse (one-line UsageError) when the frequent itemsets would exceed this many: a too-low
    # min_support makes their number explode (2^k subsets of a k-item frequent set) and exhaust memory.
    max_itemsets: int = Field(default=5_000_000, ge=1)
    # Same for rules: a k-itemset splits into 2^k - 2 candidate rules, all scored before filtering
    # (each kept rule costs ~250 bytes; 5M candidates bound the rule table near 1 GB).
    max_rule_candidates: int = Field(default=5_000_000, ge=1)
