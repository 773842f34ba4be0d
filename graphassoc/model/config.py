"""Config of training the hybrid model (text encoder + GNN + closed-form co-occurrence term)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from graphassoc.data.config import StrictModel

Mode = Literal["frozen", "two-stage", "joint"]


class TrainConfig(StrictModel):
    mode: Mode = "frozen"
    # auto = CUDA when present (bf16 autocast), else CPU; cuda with no GPU is an error, not a fallback.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # Where the mode is saved (RUN/model/<name>/); None = the mode name, or "no-text" when use_text is off.
    # It is a path component, so a plain folder name: no separator, no `..`, not hidden.
    name: str | None = None
    # Text embeddings as GNN input. Off = the "GNN without text" baseline (id embeddings only).
    use_text: bool = True
    # A learnable id embedding for items with sales history, added to the text input.
    use_id_embedding: bool = True
    # The closed-form EASE item-item term (linear in the basket) blended with the GNN two-tower term.
    use_ease: bool = True
    ease_lambda: float = Field(default=100.0, gt=0)

    # Which items the two-tower term scores: "new" (no history in the evidence; warm items keep the
    # EASE order) or "all" (behind a learned popularity gate). See graphassoc/model/net.py for the numbers.
    tower_items: Literal["new", "all"] = "new"
    # Starting weight of the mean-pooled two-tower term. Small: at 5 it swamped the max-text-similarity
    # term for new items (UCI test never-seen HR@10 0.02 vs 0.24 without it).
    tower_scale: float = Field(default=0.5, gt=0)
    gnn: str = "sage"  # `graphassoc ls gnns`
    hidden: int = Field(default=128, ge=4)
    layers: int = Field(default=2, ge=1, le=4)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    # Message-passing graph: each item keeps its `neighbours` strongest co-purchase partners (count >= min_count).
    neighbours: int = Field(default=20, ge=1)
    min_count: int = Field(default=2, ge=1)
    # Items without co-purchase edges (new products) get their `text_neighbours` nearest items by text as context.
    text_neighbours: int = Field(default=5, ge=0)

    # Supervision must be disjoint from the evidence the model reads (EASE gram matrix, graph edges):
    # the latest `supervise_fraction` of train baskets (by time) are the targets, the earlier ones the evidence,
    # which mirrors test time (evidence before the cut, targets after it).
    supervise_fraction: float = Field(default=0.3, gt=0.0, lt=1.0)
    epochs: int = Field(default=12, ge=1)
    batch_size: int = Field(default=256, ge=1)
    # Leave-one-out targets drawn per supervision basket and epoch.
    samples_per_basket: int = Field(default=2, ge=1)
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(default=3e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    warmup_steps: int = Field(default=20, ge=0)
    # Decay after warm-up: cosine to 0 at the last step, or none.
    schedule: Literal["cosine", "constant"] = "cosine"
    grad_clip: float = Field(default=1.0, gt=0)
    # Full softmax over the catalogue, or sampled (in-batch + popularity-sampled negatives, logQ-corrected:
    # graphassoc/model/sampling.py); auto = full up to `sampled_above` items, sampled beyond.
    softmax: Literal["auto", "full", "sampled"] = "auto"
    sampled_above: int = Field(default=20000, ge=1)
    negatives: int = Field(default=4096, ge=1)  # sampled negatives per step (shared by the batch)
    # Batch size when the softmax is sampled (large catalogues): every step runs the GNN over the whole
    # graph, so a large catalogue takes fewer, larger steps (x16 UCI: ~80 steps an epoch instead of ~630).
    sampled_batch_size: int = Field(default=2048, ge=1)
    # An epoch reads at most this many leave-one-out examples: a fresh seeded sample of the supervision
    # window's examples each epoch (None: all of them). Millions of baskets give millions of examples an
    # epoch, and early stopping then waits `patience` such epochs; 200,000 keeps the shared data and its
    # x16 replication whole (~9k / ~165k examples) and bounds an epoch at ~100 sampled-softmax steps.
    epoch_examples: int | None = Field(default=200_000, ge=1)
    patience: int = Field(default=3, ge=1)  # epochs without a better validation HR@10 before stopping
    # "Better" means by more than this (graphassoc/model/stopper.py): smaller moves are validation noise.
    min_delta: float = Field(default=0.001, ge=0.0)
    # Checkpoint for resume every epoch and every N steps (0 = epochs only).
    checkpoint_steps: int = Field(default=0, ge=0)

    # Encoder fine-tuning (two-stage, joint): only the top N transformer layers learn (0 = none, -1 = all).
    finetune_layers: int = Field(default=2, ge=-1)
    encoder_lr: float = Field(default=3e-5, gt=0)
    # two-stage: contrastive steps on co-purchase pairs of the evidence window (never the supervision
    # baskets, whose targets the GNN must not find pre-learnt in its features), in-batch negatives, temperature.
    contrastive_steps: int = Field(default=300, ge=0)
    contrastive_batch: int = Field(default=64, ge=2)
    temperature: float = Field(default=0.05, gt=0)
    # joint: items re-encoded with gradients per step (the rest from the cache), cache refresh period.
    joint_items: int = Field(default=96, ge=1)
    refresh_steps: int = Field(default=50, ge=1)

    # New-item exposure, set on validation after training (graphassoc/model/calibrate.py): the offset on new
    # items' scores with the best overall HR@10 among those reaching this HR@10 on never-seen targets
    # (None: best overall HR@10). The trade-off is plotted in RUN/model/<name>/newness.png.
    new_item_hr: float | None = Field(default=0.25, ge=0.0, le=1.0)
    # Hidden-item draws of the validation baskets swept, at most as many as keep the swept queries within
    # validation_baskets: a small shop has few new-product targets per draw, a large one has plenty in one.
    calibration_draws: int = Field(default=3, ge=1)
    # Validation (early stopping, the new-item offset) reads at most this many valid baskets, a seeded
    # sample: it scores every query against the whole catalogue after each epoch, so its cost is
    # baskets x items. 10,000 keeps the shared data and its x4 replication whole (1.8k / 7.3k baskets)
    # and holds HR@10's standard error near 0.005; x16 (29k valid baskets) reads a third of them.
    validation_baskets: int | None = Field(default=10000, ge=100)

    # related.parquet: top-K related items per catalogue item.
    related_k: int = Field(default=10, ge=1)
    validation_seed: int | None = None  # seed of the leave-one-out draw on valid; None = the run's seed

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", value):
            raise ValueError("must be a plain folder name (letters, digits, '.', '_', '-'; no '/', '\\' or '..'), e.g. joint-2")
        return value
