"""Rankers of the train stage's models: each trained mode (RUN/model/<mode>/), and the GNN without text."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from graphassoc.errors import DataError, GraphassocError
from graphassoc.rankers.base import RANKERS, Ranker, RankerUnavailable, validation_score
from graphassoc.rankers.context import EVIDENCE, RankContext
from graphassoc.rankers.text import TextRanker
from graphassoc.runs import trained_modes

NO_TEXT = "no-text"  # the mode `graphassoc train --set train.use_text=false` saves: a baseline, not "the model"


def text_modes(run_dir: Path) -> list[str]:
    """The trained modes that use text: the candidates for "the model" (every mode but the no-text baseline)."""
    return [m for m in trained_modes(run_dir) if m != NO_TEXT]


class ModelRanker(Ranker):
    """A trained model of the train stage, loaded from RUN/model/<mode>/."""

    baseline = False
    mode = ""

    def __init__(self, mode: str | None = None) -> None:
        super().__init__()
        if mode is not None:
            self.mode = mode
        self.name = f"model-{self.mode}"

    @property
    def train_args(self) -> str:
        return f"--mode {self.mode}"

    def fit(self, ctx: RankContext) -> "ModelRanker":
        self.n_items = ctx.n_items
        if self.mode not in trained_modes(ctx.run_dir):
            raise RankerUnavailable(f"no trained model '{self.mode}' in {ctx.run_dir / 'model'}; "
                                    f"train it with `graphassoc train {ctx.run_dir} {self.train_args}`")
        try:
            from graphassoc.model import load_model
        except ImportError as err:
            raise RankerUnavailable(f"the model stage is not available ({err})") from None
        # The model's evidence (its EASE term, its message-passing graph) follows the protocol of the
        # phase: train only while tuning on valid queries, train + valid for test queries.
        key = f"model:{self.mode}:{ctx.phase}"
        if key not in ctx.cache:
            try:
                ctx.cache[key] = load_model(ctx.run_dir, self.mode, evidence=EVIDENCE[ctx.phase])
            except GraphassocError as err:  # e.g. saved by an older version: skip it, compare the rest
                raise RankerUnavailable(f"model '{self.mode}' cannot be loaded: {err}") from None
        self.model = ctx.cache[key]
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        scores = np.asarray(self.model.score_baskets(list(queries)), dtype=np.float32)
        if scores.shape != (len(queries), self.n_items):
            raise DataError(f"model '{self.mode}' returned scores of shape {scores.shape} for {len(queries)} baskets "
                            f"and {self.n_items} catalogue items; retrain it on this run directory")
        return scores


@RANKERS.register("gnn-no-text", "the GNN trained on id embeddings only (mode no-text), a baseline")
class GnnNoTextRanker(ModelRanker):
    mode = NO_TEXT
    baseline = True

    def __init__(self) -> None:
        super().__init__()
        self.name = "gnn-no-text"

    @property
    def train_args(self) -> str:
        return "--set train.use_text=false"


@RANKERS.register("model", "the hybrid text+GNN model, one ranker per trained mode in RUN/model/")
class AnyModelRanker(ModelRanker):
    """Placeholder for `model`: compare expands it to model-<mode> for every trained mode."""


def pick_model_ranker(ctx: RankContext) -> Ranker:
    """The hybrid's model side: the named mode, or the best trained mode on validation, else frozen text."""
    wanted = ctx.settings.hybrid_model
    if wanted == "text":
        return TextRanker()
    modes = text_modes(ctx.run_dir)
    if wanted != "auto":
        if wanted not in modes:
            raise RankerUnavailable(f"hybrid_model '{wanted}' is not trained; trained modes: {', '.join(modes) or 'none'}")
        return ModelRanker(wanted)
    key = "hybrid:model_choice"
    if key not in ctx.cache:
        best, choice = -1.0, "text"
        valid = ctx.validation()
        failures = []
        for mode in modes:
            try:
                value = validation_score(ModelRanker(mode).fit(valid), valid)
            except RankerUnavailable as err:
                failures.append(str(err))
                continue
            if value > best:
                best, choice = value, mode
        if modes and len(failures) == len(modes):  # trained, but none loads: say so, never answer with text instead
            raise RankerUnavailable(failures[0])
        ctx.cache[key] = choice
    choice = ctx.cache[key]
    return TextRanker() if choice == "text" else ModelRanker(choice)
