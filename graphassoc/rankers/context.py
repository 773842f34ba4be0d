"""What a ranker is fitted on: the catalogue, the evidence window and the validation queries.

Protocol (GUIDE.md section 4): parameters are fit on train and tuned on valid; at test time the
non-parametric evidence (co-occurrence counts, rules, EASE's gram matrix) uses every basket before
the test cut (train + valid), never test. A context for phase "test" therefore has train + valid as
evidence; `validation()` gives the matching context for phase "valid" (evidence = train) on which
rankers tune.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.evaluate.config import EvaluateConfig
from graphassoc.evaluate.protocol import (Queries, basket_matrix, concat_queries, draws_within, history_popularity,
                                          leave_one_out, sample_split, tiebreak_positions)
from graphassoc.rankers.config import RankersConfig

EVIDENCE = {"valid": ("train",), "test": ("train", "valid")}


@dataclass
class RankContext:
    run_dir: Path
    items: pl.DataFrame
    baskets: pl.DataFrame
    phase: Literal["valid", "test"]
    seed: int
    eval_cfg: EvaluateConfig = field(default_factory=EvaluateConfig)  # the protocol: tuning metric, chunk size
    config: Any = None  # the run's Config: the rankers' settings (`rankers`), text, ease
    # Shared between a context and its validation twin: tuned values, loaded embeddings, models.
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> RankersConfig:
        """The rankers' settings of the run's config; the defaults for a context without one."""
        return getattr(self.config, "rankers", None) or RankersConfig()

    @cached_property
    def item_ids(self) -> list[str]:
        return self.items["item_id"].to_list()

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.item_ids)}

    @property
    def n_items(self) -> int:
        return self.items.height

    @cached_property
    def evidence_baskets(self) -> pl.DataFrame:
        return self.baskets.filter(pl.col("split").is_in(list(EVIDENCE[self.phase])))

    @cached_property
    def evidence(self) -> sp.csr_matrix:
        """Binary basket x item matrix of the evidence window."""
        return basket_matrix(self.evidence_baskets, self.item_index, self.n_items)

    @cached_property
    def popularity(self) -> np.ndarray:
        """Evidence baskets holding each item (the popularity ranker and the tie-break use it)."""
        return history_popularity(self.evidence)

    @cached_property
    def tiebreak(self) -> np.ndarray:
        return tiebreak_positions(self.popularity)

    @property
    def validation_cap(self) -> int | None:
        """train.validation_baskets of the run's config (None: no cap, or a context without a config)."""
        train = getattr(self.config, "train", None)
        return train.validation_baskets if train else None

    @cached_property
    def validation_sample(self) -> pl.DataFrame:
        """The baskets with the valid split cut to validation_cap baskets (seeded); the rest whole."""
        return sample_split(self.baskets, "valid", self.validation_cap, self.seed)

    def queries(self, split: str | None = None) -> Queries:
        """Leave-one-out queries of a split. Validation (where rankers tune: EASE's lambda, the hybrid's
        gate, one full scoring pass per grid value) reads at most train.validation_baskets of its
        baskets, as many as the model is selected on; only the queries are sampled, the evidence
        stays whole."""
        split = split or self.phase
        key = f"queries:{split}:{self.seed}"
        if key not in self.cache:
            baskets = self.validation_sample if split == "valid" else self.baskets
            self.cache[key] = leave_one_out(baskets, self.item_index, split, self.seed)
        return self.cache[key]

    def validation_draws(self, draws: int) -> Queries:
        """`draws` hidden-item draws of the validation queries (seeds seed, seed + 1, ...; the first is
        queries("valid")), fewer where more would exceed train.validation_baskets queries in all: a
        tuning that wants several draws against noise gets them on a small shop, one on a large one."""
        first = self.queries("valid")
        draws = draws_within(draws, self.validation_cap, len(first))
        return concat_queries([first, *(leave_one_out(self.validation_sample, self.item_index, "valid", self.seed + d)
                                        for d in range(1, draws))])

    def validation(self) -> "RankContext":
        """The context rankers tune in: evidence = train, queries = the valid split."""
        if self.phase == "valid":
            return self
        key = "context:valid"
        if key not in self.cache:
            self.cache[key] = RankContext(self.run_dir, self.items, self.baskets, "valid", self.seed,
                                          self.eval_cfg, self.config, self.cache)
        return self.cache[key]
