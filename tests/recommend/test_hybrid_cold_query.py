"""The hybrid on a query without evidence (only products without history) is its model side alone;
with evidence, the gated blend as before. Against a numpy computation of the formula."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluate"))
from tiny_run import build_tiny_run  # noqa: E402

from graphassoc.rankers.context import RankContext  # noqa: E402
from graphassoc.rankers.hybrid import HybridRanker, zscore  # noqa: E402
from graphassoc.rankers.text import TextRanker  # noqa: E402
from graphassoc.runs import Run  # noqa: E402


@pytest.fixture(scope="module")
def hybrid(tmp_path_factory: pytest.TempPathFactory) -> HybridRanker:
    run = Run(build_tiny_run(tmp_path_factory.mktemp("tiny")))
    ctx = RankContext(run.path, run.items(), run.baskets(), "test", 0,
                      run.config.evaluate.model_copy(update={"ease_lambdas": [10.0]}), run.config)
    emb = np.random.default_rng(1).normal(size=(ctx.n_items, 8)).astype(np.float32)
    ctx.cache["text:embeddings"] = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    ranker = HybridRanker(TextRanker).fit(ctx)
    ranker.popularity = ctx.popularity
    return ranker


def test_a_query_of_new_products_is_ranked_by_the_model_side_alone(hybrid: HybridRanker) -> None:
    new = np.flatnonzero(hybrid.popularity == 0)
    warm = np.flatnonzero(hybrid.popularity > 0)
    assert len(new) and len(warm)
    cold_query, warm_query = np.array([new[0]]), np.array([warm[0], warm[1]])
    got = hybrid.score([cold_query, warm_query])
    z_e = zscore(hybrid.evidence.score([cold_query, warm_query]))
    z_m = zscore(hybrid.model.score([cold_query, warm_query]))
    assert np.ptp(z_e[0]) == 0  # no evidence row for a product without history
    np.testing.assert_allclose(got[0], hybrid.beta * z_m[0], rtol=1e-5, atol=1e-6)
    a = hybrid.alpha
    np.testing.assert_allclose(got[1], a * z_e[1] + (1 - a) * hybrid.beta * z_m[1], rtol=1e-5, atol=1e-6)
