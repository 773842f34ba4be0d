"""A query item without history borrows its text neighbours' EASE rows: against a brute-force numpy computation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphassoc.graph.ease import ease_weights
from graphassoc.model.cold_items import NEIGHBOUR_TEMPERATURE, borrowed_rows, text_neighbours
from graphassoc.model.evidence import EaseWeights, Evidence
from graphassoc.model.net import bag

COLD = (4, 9)


def _evidence(sparse_ease: bool = False, n: int = 12) -> Evidence:
    rng = np.random.default_rng(3)
    x = (rng.random((80, n)) < 0.3).astype(np.float32)
    x[:, list(COLD)] = 0
    b = ease_weights(x.T @ x, 5.0)
    text = rng.normal(size=(n, 6)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    pop = x.sum(0)
    return Evidence(EaseWeights(sp.csr_matrix(b) if sparse_ease else b), torch.zeros(2, 0, dtype=torch.long),
                    torch.from_numpy(np.log1p(pop)), torch.from_numpy(pop > 0), torch.from_numpy(text))


def _brute(ev: Evidence, query: np.ndarray, k: int) -> np.ndarray:
    text, seen = ev.text.numpy(), ev.seen.numpy()
    b = ev.ease.dense.numpy() if ev.ease.dense is not None else ev.ease.sparse.toarray()
    out = np.zeros(len(seen))
    for item in query:
        if seen[item]:
            continue
        sims = np.where(seen, text @ text[item], -np.inf)
        best = np.argsort(-sims, kind="stable")[:k]
        w = np.exp((sims[best] - sims[best].max()) / NEIGHBOUR_TEMPERATURE)
        out += (w / w.sum()) @ b[best]
    return out / np.sqrt(len(query))


@pytest.mark.parametrize("sparse_ease", [False, True])
def test_cold_query_items_borrow_their_nearest_seen_items_rows(sparse_ease: bool) -> None:
    ev = _evidence(sparse_ease)
    queries = [np.array([4]), np.array([0, 9]), np.array([1, 2]), np.array([4, 9, 3])]
    flat, offsets = bag(queries, torch.device("cpu"))
    got = borrowed_rows(ev, flat, offsets, k=3).numpy()
    want = np.stack([_brute(ev, q, 3) for q in queries])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not got[2].any()  # only items with history: nothing borrowed
    assert got[0].any() and got[3].any()


def test_nothing_to_borrow_without_a_cold_query_item_or_without_text() -> None:
    ev = _evidence()
    flat, offsets = bag([np.array([0, 1]), np.array([5])], torch.device("cpu"))
    assert borrowed_rows(ev, flat, offsets, k=3) is None
    cold, cold_offsets = bag([np.array([4])], torch.device("cpu"))
    assert borrowed_rows(ev, cold, cold_offsets, k=0) is None
    ev.text = None
    assert borrowed_rows(ev, cold, cold_offsets, k=3) is None


def test_neighbours_are_items_with_history_nearest_first() -> None:
    ev = _evidence()
    neighbours, weights = text_neighbours(ev.text[list(COLD)], ev.text, ev.seen, 4)
    text, seen = ev.text.numpy(), ev.seen.numpy()
    for row, item in enumerate(COLD):
        sims = np.where(seen, text @ text[item], -np.inf)
        assert neighbours[row].tolist() == np.argsort(-sims, kind="stable")[:4].tolist()
        assert float(weights[row].sum()) == pytest.approx(1.0)
        assert (np.diff(weights[row].numpy()) <= 1e-7).all()
