"""Config of the rule-vs-model comparison (`graphassoc compare`): the protocol, not the rankers
(their settings are graphassoc/rankers/config.py, shared with `graphassoc recommend`)."""

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
    # intervals stay on the first draw so paired differences remain paired. At most as many draws as keep
    # their queries within max_test_baskets (evaluate.protocol.draws_within): the shared data gets 3,
    # its x4 and x16 replications (20k+ queries, already precise) one.
    draws: int = Field(default=3, ge=1, le=20)
    # Which validation metric picks EASE's lambda and the hybrid gate (never a test metric).
    tune_metric: Literal["hr@10", "ndcg@10", "mrr"] = "hr@10"
    chunk_size: int = Field(default=512, ge=1)
    # Test baskets evaluated: at most this many, a seeded uniform sample (stated in the report's protocol).
    # Every ranker scores each query against the whole catalogue, so compare costs baskets x items x rankers;
    # 25,000 keeps the shared data and its x4 replication whole (5.2k / 20.7k queries) and bounds the
    # bootstrap interval of HR@10 near +-0.006. None: every test basket.
    max_test_baskets: int | None = Field(default=25_000, ge=100)
    # Worked examples per kind in the report.
    examples: int = Field(default=5, ge=0)
