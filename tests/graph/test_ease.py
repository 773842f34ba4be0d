"""EASE: the sparse (neighbourhood) method against the dense closed form and a brute-force ridge."""

import numpy as np
import pytest
import scipy.sparse as sp

from graphassoc.graph.ease import ease_weights, fit_ease, gram, neighbourhoods, sparse_ease
from graphassoc.graph.ease_config import EaseConfig
from graphassoc.memory import MemoryBudgetError


def _baskets(n_baskets: int = 300, n_items: int = 40, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    pop = rng.zipf(1.6, n_items).clip(1, 30) / 60.0  # skewed popularity, like a shop
    return sp.csr_matrix((rng.random((n_baskets, n_items)) < pop[None, :]).astype(np.float32))


def test_gram_counts_pairs_like_dense_product() -> None:
    x = _baskets()
    dense = x.toarray().astype(np.int64)
    np.testing.assert_array_equal(gram(x).toarray(), dense.T @ dense)


def test_dense_ease_is_the_closed_form() -> None:
    """diag(B) = 0 and B solves EASE's stationarity (G + lam I) B = G - diag(mu) for some mu."""
    g = gram(_baskets()).toarray().astype(np.float64)
    b = ease_weights(g, 20.0).astype(np.float64)
    assert np.abs(np.diag(b)).max() == 0.0
    resid = (g + 20.0 * np.eye(len(g))) @ b - g
    off = resid - np.diag(np.diag(resid))
    assert np.abs(off).max() < 1e-3 * np.abs(g).max()


@pytest.mark.parametrize("lam", [1.0, 50.0])
def test_sparse_ease_with_every_neighbour_equals_dense(lam: float) -> None:
    x = _baskets()
    n = x.shape[1]
    dense = ease_weights(gram(x).toarray(), lam)
    for k in (n - 1, n + 10):
        b = sparse_ease(x, lam, k)
        assert isinstance(b, sp.csr_matrix) and b.dtype == np.float32
        np.testing.assert_allclose(b.toarray(), dense, atol=1e-4)


def test_sparse_column_is_ridge_on_its_neighbours() -> None:
    """Column j = argmin ||x_j - X_N b||^2 + lam ||b||^2 over j's K partners (numpy lstsq, independent)."""
    x, lam, k = _baskets(seed=1), 10.0, 6
    b = sparse_ease(x, lam, k)
    assert np.diff(b.tocsc().indptr).max() <= k and np.abs(b.diagonal()).max() == 0.0
    xd = x.toarray().astype(np.float64)
    counts = xd.T @ xd
    for j in (0, 5, 17):
        partners = np.flatnonzero(b.tocsc()[:, j].toarray().ravel() != 0)
        assert len(partners) == k
        # The K partners are the strongest co-occurrences (ties aside).
        others = np.delete(counts[j], j)
        assert counts[j, partners].min() >= np.sort(others)[-k]
        a = np.vstack([xd[:, partners], np.sqrt(lam) * np.eye(k)])
        y = np.concatenate([xd[:, j], np.zeros(k)])
        ref = np.linalg.lstsq(a, y, rcond=None)[0]
        np.testing.assert_allclose(b.tocsc()[partners, j].toarray().ravel(), ref, atol=1e-4)


def test_neighbourhoods_prefer_counts_then_popularity() -> None:
    # item 0 co-occurs with 1 (3 times) and 2 (once); 3 is popular but never with 0; 4 never sold.
    x = sp.csr_matrix(np.array([[1, 1, 0, 0, 0]] * 3 + [[1, 0, 1, 0, 0]] + [[0, 0, 0, 1, 0]] * 5, dtype=np.float32))
    hoods = neighbourhoods(gram(x), 3)
    assert set(hoods[0]) == {1, 2, 3}
    assert set(neighbourhoods(gram(x), 10)[0]) == {1, 2, 3, 4}


def test_fit_ease_picks_the_method_by_size() -> None:
    x = _baskets()
    assert isinstance(fit_ease(x, 10.0, EaseConfig()), np.ndarray)
    assert sp.issparse(fit_ease(x, 10.0, EaseConfig(dense_max_items=10)))
    assert sp.issparse(fit_ease(x, 10.0, EaseConfig(method="sparse")))
    forced = fit_ease(x, 10.0, EaseConfig(method="dense", dense_max_items=10))
    np.testing.assert_allclose(forced, ease_weights(gram(x).toarray(), 10.0))


def test_dense_ease_too_big_stops_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHASSOC_MEMORY_GB", "0.000001")
    with pytest.raises(MemoryBudgetError, match="ease.method=sparse"):
        fit_ease(_baskets(), 10.0, EaseConfig(method="dense"))
