"""EASE item-item weights (Steck 2019) from a co-occurrence gram matrix: the model and the rankers share it."""

from __future__ import annotations

import numpy as np


def ease_weights(gram: np.ndarray, lam: float) -> np.ndarray:
    """EASE closed form: B = I - P diag(1/diag(P)), P = (G + lam I)^-1, diag(B) = 0."""
    g = np.asarray(gram, dtype=np.float64).copy()
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)
