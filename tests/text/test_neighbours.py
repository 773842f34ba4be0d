"""Nearest neighbours by cosine: exact search against brute force, HNSW recall against exact."""

import numpy as np
import pytest

from graphassoc.text.neighbours import exact_nearest, nearest, normalise
from graphassoc.text.neighbours_config import NeighboursConfig


def _vectors(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d))
    return (centres[rng.integers(0, 20, n)] + 0.6 * rng.normal(size=(n, d))).astype(np.float32)


def _brute(q: np.ndarray, b: np.ndarray, k: int, exclude_self: bool) -> np.ndarray:
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    out = []
    for i, row in enumerate(qn @ bn.T):
        cands = [(-s, j) for j, s in enumerate(row) if not (exclude_self and j == i)]
        out.append([j for _, j in sorted(cands)[:k]])
    return np.array(out)


@pytest.mark.parametrize("exclude_self", [False, True])
def test_exact_equals_brute_force(exclude_self: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import graphassoc.text.neighbours as nb

    monkeypatch.setattr(nb, "_BLOCK_BYTES", 4 * 300 * 7)  # 7 queries per block: blocks must join up
    base = _vectors(300)
    idx, sims = nearest(base, base, 5, exclude_self=exclude_self)
    np.testing.assert_array_equal(idx, _brute(base, base, 5, exclude_self))
    cos = normalise(base) @ normalise(base).T
    np.testing.assert_allclose(sims, np.take_along_axis(cos, idx, axis=1), atol=1e-5)
    assert (np.diff(sims, axis=1) <= 1e-7).all()


def test_fewer_candidates_than_k_are_padded() -> None:
    base = _vectors(3)
    idx, sims = exact_nearest(normalise(base), normalise(base), 5, exclude_self=True)
    assert (idx[:, 2:] == -1).all() and np.isneginf(sims[:, 2:]).all()
    assert set(idx[0, :2]) == {1, 2}


def test_hnsw_recall_against_exact() -> None:
    base = _vectors(3000, d=32)
    query = base[:400]
    cfg = NeighboursConfig(exact_max_pairs=1)  # force the index
    approx, sims = nearest(query, base, 10, exclude_self=True, cfg=cfg)
    exact, _ = nearest(query, base, 10, exclude_self=True)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
    assert recall >= 0.95
    assert not (approx == np.arange(400)[:, None]).any()
    cos = normalise(query) @ normalise(base).T
    np.testing.assert_allclose(sims, np.take_along_axis(cos, approx, axis=1), atol=1e-4)
