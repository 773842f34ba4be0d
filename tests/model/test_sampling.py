"""Sampled softmax: the candidate set and its logQ correction, and the top-k helper of related lists."""

from __future__ import annotations

import numpy as np
import torch

from graphassoc.model.config import TrainConfig
from graphassoc.evaluate.protocol import top_k
from graphassoc.model.sampling import CandidateSampler, use_sampled_softmax


def test_inclusion_probability_matches_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    n, batch, negatives = 50, 8, 20
    pop = rng.zipf(1.5, n).astype(float)
    pop[:5] = 0  # never sold: must still be drawn (the uniform share)
    targets = rng.zipf(1.3, n).astype(float)
    sampler = CandidateSampler(targets, pop, negatives, batch)
    p = targets / targets.sum()
    seen = np.zeros(n)
    predicted = np.zeros(n)
    trials = 4000
    for _ in range(trials):
        target = rng.choice(n, size=batch, p=p)
        cols, log_inclusion, labels = sampler.candidates(target, rng)
        assert (cols[labels] == target).all() and (np.diff(cols) > 0).all()
        seen[cols] += 1
        predicted[cols] = np.exp(log_inclusion)
    empirical = seen / trials
    drawn = empirical > 0
    np.testing.assert_allclose(predicted[drawn], empirical[drawn], atol=0.04)
    assert (empirical[:5] > 0).all()


def test_logq_corrected_sampled_softmax_gradient_points_like_the_full_one() -> None:
    # With many draws the corrected sampled loss's gradient on the logits tracks the full softmax's.
    rng = np.random.default_rng(1)
    n = 200
    logits = torch.tensor(rng.normal(size=n), dtype=torch.float64, requires_grad=True)
    pop = rng.zipf(1.4, n).astype(float)
    sampler = CandidateSampler(pop, pop, 60, 1)
    target = 3
    full = torch.autograd.grad(torch.nn.functional.cross_entropy(logits[None], torch.tensor([target])), logits)[0]
    acc = torch.zeros(n, dtype=torch.float64)
    for _ in range(3000):
        cols, log_inc, label = sampler.candidates(np.array([target]), rng)
        sub = logits[torch.as_tensor(cols)] - torch.as_tensor(log_inc)
        loss = torch.nn.functional.cross_entropy(sub[None], torch.as_tensor(label))
        acc += torch.autograd.grad(loss, logits)[0]
    sampled = acc / 3000
    cos = torch.nn.functional.cosine_similarity(sampled, full, dim=0)
    assert cos > 0.95, float(cos)


def test_auto_softmax_switches_at_the_configured_size() -> None:
    cfg = TrainConfig(sampled_above=1000)
    assert not use_sampled_softmax(cfg, 1000) and use_sampled_softmax(cfg, 1001)
    assert use_sampled_softmax(TrainConfig(softmax="sampled"), 10)
    assert not use_sampled_softmax(TrainConfig(softmax="full"), 10**6)


def test_top_k_without_pos_equals_a_stable_argsort() -> None:
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 5, size=(30, 40)).astype(np.float32)  # many ties
    scores[0, :] = -np.inf
    want = np.argsort(-scores, axis=1, kind="stable")[:, :7]
    np.testing.assert_array_equal(top_k(scores, 7), want)
