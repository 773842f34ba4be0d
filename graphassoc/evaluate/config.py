"""Config of the rule-vs-model comparison (`graphassoc compare`) and of the rankers it fits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from graphassoc.data.config import StrictModel


class EvaluateConfig(StrictModel):
    # Rankers to compare (names of `graphassoc ls rankers`). "model" expands to every trained mode
    # found under RUN/model/; rankers whose model is missing are skipped with a message.
    rankers: list[str] = Field(default_factory=lambda: ["popularity", "cooccurrence", "rules", "ease", "text",
                                                        "gnn-no-text", "model", "hybrid"])
    # Seed of the hidden-item draw and the bootstrap; None uses the run's seed.
    seed: int | None = None
    n_bootstrap: int = Field(default=1000, ge=50)
    # Hidden-item draws: the bootstrap covers the sampling of baskets, not which item is hidden, and
    # on the full data HR@10 moves by up to 0.02 between draws. With draws > 1 the report adds each
    # ranker's mean / min / max over that many draws (seeds seed, seed+1, ...); the headline and its
    # intervals stay on the first draw so paired differences remain paired.
    draws: int = Field(default=3, ge=1, le=20)
    # Which validation metric picks EASE's lambda and the hybrid gate (never a test metric).
    tune_metric: Literal["hr@10", "ndcg@10", "mrr"] = "hr@10"
    ease_lambdas: list[float] = Field(default_factory=lambda: [25.0, 50.0, 100.0, 250.0, 500.0, 1000.0])
    # Rules re-mined for the ranker's evidence; the defaults are the reference settings of
    # ../shared/data/README.md (fpgrowth 0.005, max_len 3, conf >= 0.05, max confidence).
    rules_min_support: float = Field(default=0.005, gt=0.0, le=1.0)
    rules_min_confidence: float = Field(default=0.05, ge=0.0, le=1.0)
    rules_max_len: int = Field(default=3, ge=2)
    rules_order: Literal["confidence", "lift"] = "confidence"
    # Hybrid: the co-occurrence side ("ease" or "cooccurrence") and the model side ("auto" = the best
    # trained model mode on validation, else the frozen text encoder).
    hybrid_evidence: Literal["ease", "cooccurrence"] = "ease"
    hybrid_model: str = "auto"
    chunk_size: int = Field(default=512, ge=1)
    # Test baskets evaluated: at most this many, a seeded uniform sample (stated in the report's protocol).
    # Every ranker scores each query against the whole catalogue, so compare costs baskets x items x rankers;
    # 25,000 keeps the shared data and its x4 replication whole (5.2k / 20.7k queries) and bounds the
    # bootstrap interval of HR@10 near +-0.006. None: every test basket.
    max_test_baskets: int | None = Field(default=25_000, ge=100)
    # The text ranker holds every cosine (n x n float32) up to this many items; above, it scores from
    # each item's `text_neighbours` nearest items (an HNSW index at size, text.neighbours).
    text_exact_max_items: int = Field(default=10_000, ge=1)
    text_neighbours: int = Field(default=200, ge=10)
    # Worked examples per kind in the report.
    examples: int = Field(default=5, ge=0)
    device: str = "cpu"
