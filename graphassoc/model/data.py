"""The run's items and baskets as index arrays, split into an evidence window and a supervision window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from graphassoc.config import Config
from graphassoc.errors import UsageError
from graphassoc.evaluate.leakage import baskets_fingerprint
from graphassoc.evaluate.protocol import (Queries, basket_indices, basket_matrix, concat_queries, draws_within,
                                          leave_one_out, ordered, sample_split)
from graphassoc.runs import Run
from graphassoc.text.encoder import item_texts


@dataclass
class Data:
    items: pl.DataFrame
    item_index: dict[str, int]
    texts: list[str]
    context: Any  # basket x item CSR: evidence while training (earlier train baskets)
    supervision: list[np.ndarray]  # later train baskets (targets while training)
    train_all: Any  # CSR of all train baskets: evidence for validation
    context_lists: list[np.ndarray]  # the evidence window's baskets: what encoder fine-tuning may learn from
    valid: Queries
    calibration: Queries  # valid baskets under train.calibration_draws hidden-item draws (new-item offset)
    train_fingerprint: str  # of the train basket ids: compare's leakage check reads it from config.json

    @property
    def n_items(self) -> int:
        return self.items.height

    def target_counts(self) -> np.ndarray:
        """How often each item occurs in the supervision baskets (the sampled softmax's in-batch distribution)."""
        flat = np.concatenate(self.supervision) if self.supervision else np.zeros(0, dtype=np.int64)
        return np.bincount(flat, minlength=self.n_items).astype(np.float64)


def load_data(run: Run, cfg: Config, seed: int) -> Data:
    items, baskets = run.items(), run.baskets()
    index = {item: i for i, item in enumerate(items["item_id"].to_list())}
    train = ordered(baskets.filter(pl.col("split") == "train"))
    train_items = train["items"].explode().n_unique() if train.height else 0
    if train.height < 4 or train_items < 2:
        # The train window is what the split leaves before split.valid_start: that is the setting to move.
        raise UsageError(f"run directory '{run.path}' has {train.height} train baskets over {train_items} items; "
                         "the model needs at least 4 baskets and 2 items: rebuild it with an earlier cut "
                         "(a later split.valid_start or a smaller split.valid_fraction) or more transactions")
    cut = int(round(train.height * (1 - cfg.train.supervise_fraction)))
    context, later = train[:cut], train[cut:]
    vseed = cfg.train.validation_seed if cfg.train.validation_seed is not None else seed
    baskets = sample_split(baskets, "valid", cfg.train.validation_baskets, vseed)
    valid = leave_one_out(baskets, index, "valid", vseed)
    if len(valid) == 0:
        raise UsageError("the run has no validation baskets with >= 2 items, needed for early stopping; "
                         "rebuild it with split.valid_start or split.valid_fraction set")
    draws = draws_within(cfg.train.calibration_draws, cfg.train.validation_baskets, len(valid))
    return Data(items, index, item_texts(items, cfg.text), basket_matrix(context, index, items.height),
                [b for b in basket_indices(later, index) if len(b) >= 2],
                basket_matrix(train, index, items.height), basket_indices(context, index), valid,
                concat_queries([valid, *(leave_one_out(baskets, index, "valid", vseed + d)
                                         for d in range(1, draws))]),
                baskets_fingerprint(train["basket_id"].to_list()))


def examples(baskets: list[np.ndarray], per_basket: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(basket, hidden position) pairs, up to per_basket per basket, shuffled: one epoch's training examples."""
    out = []
    for b, items in enumerate(baskets):
        for hidden in rng.choice(len(items), size=min(per_basket, len(items)), replace=False):
            out.append((b, int(hidden)))
    order = rng.permutation(len(out))
    return [out[i] for i in order]
