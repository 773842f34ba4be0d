"""Sampled softmax for large catalogues: in-batch targets + popularity-sampled negatives, logQ-corrected.

Scoring every training query against every catalogue item costs batch x items per step; at 60k
items that dominates training. Instead each step scores a shared candidate set: the batch's targets
(in-batch negatives for the other rows) plus `negatives` items drawn from a mix of the evidence
popularity^0.75 and the uniform distribution (so items without history, the new products the model
must learn to place, are drawn too). Each candidate's logit is corrected by the log of its probability
of being in the set (Yi et al., RecSys 2019; Jean et al. 2015), as TensorFlow's sampled_softmax_loss
does with its expected counts, so the sampled loss estimates the full softmax without its bias to the head.
"""

from __future__ import annotations

import numpy as np
import torch

from graphassoc.model.config import TrainConfig

POPULARITY_POWER = 0.75  # word2vec's unigram^0.75: flatter than popularity, so the tail is drawn too
UNIFORM_SHARE = 0.5  # share of the negative distribution spread evenly over the catalogue


def use_sampled_softmax(cfg: TrainConfig, n_items: int) -> bool:
    """auto: full softmax up to train.sampled_above items (exact and better there), sampled beyond."""
    if cfg.softmax == "auto":
        return n_items > cfg.sampled_above
    return cfg.softmax == "sampled"


class CandidateSampler:
    def __init__(self, target_counts: np.ndarray, popularity: np.ndarray, negatives: int, batch_size: int) -> None:
        n = len(popularity)
        weights = np.power(popularity.astype(np.float64), POPULARITY_POWER)
        q = np.full(n, 1.0 / n)
        if weights.sum() > 0:
            q = UNIFORM_SHARE * q + (1 - UNIFORM_SHARE) * weights / weights.sum()
        self.q, self.cdf = q, np.cumsum(q)
        total = target_counts.sum()
        self.p = target_counts / total if total > 0 else np.full(n, 1.0 / n)
        self.negatives, self.batch_size = negatives, batch_size

    def candidates(self, target: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(columns, log inclusion probability per column, label = each row's target position in columns)."""
        drawn = np.searchsorted(self.cdf, rng.random(self.negatives) * self.cdf[-1], side="right")
        drawn = np.minimum(drawn, len(self.q) - 1)
        cols, inverse = np.unique(np.concatenate([target, drawn]), return_inverse=True)
        # P(j in the set) = 1 - P(not among batch_size targets) P(not among the negatives draws).
        log_miss = self.batch_size * np.log1p(-np.minimum(self.p[cols], 1 - 1e-12)) + \
            self.negatives * np.log1p(-np.minimum(self.q[cols], 1 - 1e-12))
        inclusion = -np.expm1(log_miss)
        return cols, np.log(np.maximum(inclusion, 1e-30)), inverse[:len(target)]


def sampled_logits(logits: torch.Tensor, log_inclusion: np.ndarray) -> torch.Tensor:
    """The logQ correction: subtract each candidate's log inclusion probability."""
    return logits - torch.as_tensor(log_inclusion, dtype=logits.dtype, device=logits.device).unsqueeze(0)
