"""The hybrid's pruned grid ranks equal the brute-force ranks of every gate (each mixed row fully scored)."""

from __future__ import annotations

import numpy as np
import pytest

from graphassoc.evaluate.protocol import exclude_query_items, rank_of_targets, tiebreak_positions
from graphassoc.rankers.hybrid import HYBRID_BETAS, HYBRID_TAUS, gate, grid_ranks, zscore


def brute_force(z_e, z_m, alphas, grid, queries, target, pos):
    out = []
    for i, _, beta in grid:
        mixed = exclude_query_items(alphas[i][None, :] * z_e + (1 - alphas[i][None, :]) * beta * z_m, queries)
        out.append(rank_of_targets(mixed, target, pos))
    return out


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grid_ranks_equal_scoring_every_gate_in_full(seed, ties):
    rng = np.random.default_rng(seed)
    n_rows, n_items = 60, 400
    popularity = np.where(rng.random(n_items) < 0.3, 0, rng.zipf(1.5, n_items)).astype(np.float64)
    evidence = rng.standard_normal((n_rows, n_items)) ** 3
    model = rng.standard_normal((n_rows, n_items))
    if ties:  # coarse scores: many items tie with the target, the tie-break order decides
        evidence, model = np.round(evidence), np.round(model * 2)
        evidence[:, popularity == 0] = 0
    queries = [rng.choice(n_items, size=rng.integers(1, 5), replace=False) for _ in range(n_rows)]
    target = np.array([rng.choice(np.setdiff1d(np.arange(n_items), q)) for q in queries])
    z_e, z_m = zscore(evidence.astype(np.float32)), zscore(model.astype(np.float32))
    alphas = np.stack([gate(popularity, tau) for tau in HYBRID_TAUS])
    grid = [(i, tau, beta) for i, tau in enumerate(HYBRID_TAUS) for beta in HYBRID_BETAS]
    pos = tiebreak_positions(popularity)

    expected = brute_force(z_e, z_m, alphas, grid, queries, target, pos)
    exact = grid_ranks(z_e, z_m, alphas, grid, queries, target, pos)
    for want, got in zip(expected, exact):
        np.testing.assert_array_equal(got, want)
    cut = grid_ranks(z_e, z_m, alphas, grid, queries, target, pos, cutoff=10)
    for want, got in zip(expected, cut):  # beyond the cutoff only "beyond" is reported
        np.testing.assert_array_equal(np.minimum(got, 11), np.minimum(want, 11))
    assert any((w > 11).any() for w in expected), "the case never exercises the skipped queries"
