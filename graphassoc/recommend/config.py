"""Config of recommendations (`graphassoc recommend`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from graphassoc.data.config import StrictModel


class RecommendConfig(StrictModel):
    # Ranker name (`graphassoc ls rankers`); None picks the best available: "hybrid" when a model is
    # trained under RUN/model/, else "ease" (the strongest baseline of ../shared/data/README.md).
    method: str | None = None
    k: int = Field(default=10, ge=1)
    # Queries scored per call of the ranker in batch mode: (chunk x n_items) float32 scores in memory.
    chunk_size: int = Field(default=1024, ge=1)
    # Free-text search: the best `text_candidates` items by encoder cosine are re-ranked by
    # cosine + text_evidence_weight * co-purchase evidence, the evidence being the ranker's score
    # given the top `text_seeds` matches as a basket (scaled to [0, 1]). See service.recommend_text.
    text_candidates: int = Field(default=50, ge=1)
    text_seeds: int = Field(default=5, ge=1)
    text_evidence_weight: float = Field(default=0.1, ge=0.0)
    # Which rule counts as "best" in the evidence when several apply.
    rule_order: Literal["confidence", "lift"] = "confidence"
    # Reuse tuned values (EASE lambda, hybrid gate) stored in RUN/recommend/tuned.json by an earlier call.
    reuse_tuning: bool = True
