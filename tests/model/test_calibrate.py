"""The new-item offset sweep against brute force: re-rank every query at every offset with the protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graphassoc.evaluate.protocol import Queries, rank_of_targets
from graphassoc.model.calibrate import calibrate_new_items, hit_steps


def _random_case(seed: int, n_queries: int = 60, n_items: int = 40):
    rng = np.random.default_rng(seed)
    new = rng.random(n_items) < 0.3
    queries, targets = [], []
    for _ in range(n_queries):
        basket = rng.choice(n_items, size=int(rng.integers(2, 6)), replace=False)
        queries.append(np.sort(basket[1:]))
        targets.append(basket[0])
    scores = rng.normal(size=(n_queries, n_items)).round(3)  # rounded: a few ties, as real scores have
    return new, Queries("valid", [str(i) for i in range(n_queries)], queries, np.asarray(targets)), scores


def _brute_force_hits(scores, new, queries, offset, pos):
    s = scores + offset * new[None, :]
    for row, q in enumerate(queries.query):
        s[row, q] = -np.inf
    return rank_of_targets(s, queries.target, pos) <= 10


@pytest.mark.parametrize("seed", range(8))
def test_steps_match_reranking_at_every_offset(seed: int) -> None:
    new, queries, scores = _random_case(seed)
    base = scores.copy()
    for row, q in enumerate(queries.query):
        base[row, q] = -np.inf
    pos = np.random.default_rng(seed).permutation(len(new))  # the protocol's tie-break order
    steps = hit_steps(base, new, queries.target, pos)
    never_seen = new[queries.target]
    for offset in (-3.0, -1.3, -0.4, 0.0, 0.45, 1.1, 2.9):
        expected = _brute_force_hits(scores, new, queries, offset, pos)
        got = np.where(never_seen, offset > steps, offset <= steps)
        # Ties across the sides are the one place the two may differ (an offset exactly at a step).
        assert (got == expected).mean() >= 0.98, (offset, np.flatnonzero(got != expected))


def test_new_items_scored_alike_are_ranked_by_the_tie_break() -> None:
    # A model without text gives every new item one score: the tie-break decides, as in the protocol.
    new, queries, scores = _random_case(11, n_queries=120)
    scores[:, new] = 0.25
    base = scores.copy()
    for row, q in enumerate(queries.query):
        base[row, q] = -np.inf
    pos = np.random.default_rng(1).permutation(len(new))
    steps = hit_steps(base, new, queries.target, pos)
    for offset in (-2.0, 0.1, 0.7, 5.0):
        expected = _brute_force_hits(scores, new, queries, offset, pos)
        got = np.where(new[queries.target], offset > steps, offset <= steps)
        assert (got == expected).all(), offset


def test_calibration_reaches_the_target_and_keeps_the_best_overall(tmp_path: Path) -> None:
    new, queries, scores = _random_case(3, n_queries=200)
    pos = np.arange(len(new))
    cal = calibrate_new_items(lambda part: scores[[int(b) for b in _ids(queries, part)]], new, queries, pos, target=0.5)
    k = cal.offsets.index(cal.chosen)
    assert cal.target_met and cal.hr10_never_seen[k] >= 0.5
    assert cal.hr10[k] == max(h for h, n in zip(cal.hr10, cal.hr10_never_seen) if n >= 0.5)
    # The sweep's figures are the protocol's (up to ties) at the chosen offset.
    hits = _brute_force_hits(scores, new, queries, cal.chosen, pos)
    assert abs(hits.mean() - cal.hr10[k]) <= 0.02
    # Never-seen HR@10 only grows with the offset.
    assert all(a <= b for a, b in zip(cal.hr10_never_seen, cal.hr10_never_seen[1:]))
    # The sweep spans every step: at its top, each new target that can enter the top 10 at all has.
    base = scores.copy()
    for row, q in enumerate(queries.query):
        base[row, q] = -np.inf
    steps = hit_steps(base, new, queries.target, pos)
    never_seen = new[queries.target]
    assert cal.hr10_never_seen[-1] == pytest.approx((steps[never_seen] < np.inf).mean(), abs=1e-5)
    cal.save(tmp_path)
    assert (tmp_path / "newness.json").is_file() and (tmp_path / "newness.png").stat().st_size > 1000


def test_unreachable_target_falls_back_to_the_best_overall() -> None:
    new, queries, scores = _random_case(5)
    cal = calibrate_new_items(lambda part: scores[[int(b) for b in _ids(queries, part)]], new, queries,
                              np.arange(len(new)), target=1.01)
    assert not cal.target_met
    assert cal.hr10[cal.offsets.index(cal.chosen)] == max(cal.hr10)
    assert 0.0 in cal.offsets and cal.offsets == sorted(cal.offsets)


def _ids(queries: Queries, part: list[np.ndarray]) -> list[str]:
    # calibrate_new_items hands over query slices in order; map them back to their rows.
    index = {id(q): i for i, q in enumerate(queries.query)}
    return [str(index[id(q)]) for q in part]
