"""Config of the mining stage (frequent itemsets and association rules)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from graphassoc.data.config import StrictModel


class MiningConfig(StrictModel):
    engine: str = "fim"
    min_support: float = Field(default=0.005, gt=0.0, le=1.0)
    min_confidence: float = Field(default=0.1, ge=0.0, le=1.0)
    max_len: int | None = Field(default=None, ge=1)
    min_lift: float | None = Field(default=None, ge=0.0)
    # Keep only rules whose antecedent / consequent contains all of these item ids.
    antecedent_contains: list[str] = Field(default_factory=list)
    consequent_contains: list[str] = Field(default_factory=list)
    # Top-k rules by a measure with no support threshold to tune (min_support is found for you).
    top_k: int | None = Field(default=None, ge=1)
    top_k_by: Literal["lift", "confidence", "support", "leverage", "conviction", "zhangs_metric"] = "lift"
    # Drop a rule when a more general rule (antecedent subset) with the same consequent has >= its confidence.
    prune_redundant: bool = False
