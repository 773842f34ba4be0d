"""Each score term of the hybrid model against a hand computation, and the sparse paths against the dense ones."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphassoc.graph.ease import ease_weights, gram
from graphassoc.model import terms
from graphassoc.model.config import TrainConfig
from graphassoc.model.evidence import EaseWeights, Evidence, copurchase_edges, new_similarity_table, top_partners
from graphassoc.model.net import HybridNet, bag, mask_queries
from graphassoc.model.terms import EaseTerm, ItemBias, NewnessTerm, TowerTerm, max_similarity

QUERIES = [np.array([0, 3]), np.array([5]), np.array([1, 2, 6, 7])]


def _evidence(seed: int = 0, n: int = 12, sparse_ease: bool = False, table: bool = False) -> Evidence:
    rng = np.random.default_rng(seed)
    x = (rng.random((60, n)) < 0.3).astype(np.float32)
    x[:, [4, 9]] = 0  # two items without history
    b = ease_weights(x.T @ x, 5.0)
    text = rng.normal(size=(n, 6)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    pop = x.sum(0)
    edges = copurchase_edges(gram(sp.csr_matrix(x)), 3, 1)
    return Evidence(EaseWeights(sp.csr_matrix(b) if sparse_ease else b), torch.from_numpy(edges),
                    torch.from_numpy(np.log1p(pop)), torch.from_numpy(pop > 0), torch.from_numpy(text),
                    new_similarity_table(text, pop == 0) if table else None)


def test_ease_term_is_alpha_times_short_history_weight_times_normalised_basket_sum() -> None:
    ev = _evidence()
    b = ev.ease.dense.numpy()
    pop = np.expm1(ev.log_pop.numpy())
    term = EaseTerm()
    flat, offsets = bag(QUERIES, torch.device("cpu"))
    got = term(flat, offsets, ev, None).detach().numpy()
    c = 1 + 1.0 * 100.0 / (pop + 100.0)  # the starting g = 1, tau = 100
    want = np.stack([10.0 * c * b[q].sum(0) / np.sqrt(len(q)) for q in QUERIES])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_sparse_ease_weights_score_like_dense_ones_on_any_columns() -> None:
    dense, sparse = _evidence(), _evidence(sparse_ease=True)
    flat, offsets = bag(QUERIES, torch.device("cpu"))
    cols = torch.tensor([7, 0, 4, 11])
    for c in (None, cols):
        np.testing.assert_allclose(sparse.ease.basket_scores(flat, offsets, c).numpy(),
                                   dense.ease.basket_scores(flat, offsets, c).numpy(), rtol=1e-5, atol=1e-6)
    restored = EaseWeights.from_tensors(sparse.ease.tensors())
    np.testing.assert_array_equal(restored.rows(np.array([1, 2])), sparse.ease.rows(np.array([1, 2])))


def test_max_similarity_matches_brute_force_in_any_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    ev = _evidence()
    t = ev.text.numpy()
    weight = (~ev.seen).float()
    weight[[1, 2]] = 1.0  # some query items count as new
    flat, offsets = bag(QUERIES, torch.device("cpu"))
    cols = torch.tensor([9, 4, 0])
    want = np.stack([(t[q] @ t.T).max(0) for q in QUERIES])
    want_w = np.stack([(weight.numpy()[q, None] * (t[q] @ t.T)).max(0) for q in QUERIES])
    for block in (1, 7, 1 << 24):  # one query item per block, a few, everything at once
        monkeypatch.setattr(terms, "SIMILARITY_BLOCK", block * 12)
        got, got_w = max_similarity(ev.text, flat, offsets, None, weight)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_w.numpy(), want_w, rtol=1e-5, atol=1e-6)
        sub, _ = max_similarity(ev.text, flat, offsets, cols, weight)
        np.testing.assert_allclose(sub.numpy(), want[:, cols.numpy()], rtol=1e-5, atol=1e-6)


def test_tower_new_items_only_scores_cosine_times_scale_on_items_without_history() -> None:
    ev = _evidence()
    torch.manual_seed(0)
    tower = TowerTerm(6, "new", 0.5)
    h = torch.randn(12, 6)
    pooled = torch.randn(3, 6)
    got = tower(pooled, h, ev, None).detach().numpy()
    u = torch.nn.functional.normalize(tower.query_proj(pooled), dim=-1).detach().numpy()
    hn = (h / h.norm(dim=1, keepdim=True)).numpy()
    want = 0.5 * (u @ hn.T) * (~ev.seen).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert (got[:, ev.seen.numpy()] == 0).all()


def test_newness_and_bias_terms_by_hand() -> None:
    bias = ItemBias("new")
    with torch.no_grad():
        bias.weights.copy_(torch.tensor([0.3, -1.0, 2.0, 0.5]))
        bias.new_offset.fill_(0.25)
    ev = _evidence()
    new = (~ev.seen).float()
    np.testing.assert_allclose(bias(ev).detach().numpy(), (-1.0 + 0.25) * new.numpy())
    ev_all = ItemBias("all")
    ev_all.load_state_dict(bias.state_dict())
    np.testing.assert_allclose(ev_all(ev).detach().numpy(), 0.3 * ev.log_pop.numpy() + (-0.75) * new.numpy(), rtol=1e-6)
    term = NewnessTerm()
    frac, near, near_new = torch.tensor([[0.5]]), torch.full((1, 12), 0.8), torch.full((1, 12), 0.4)
    got = term(bias.weights, frac, near, near_new, new).detach().numpy()
    np.testing.assert_allclose(got, ((2.0 * 0.5 + 2.0 * 0.8 + 0.5 * 0.4) * new.numpy())[None], rtol=1e-6)


@pytest.mark.parametrize("sparse_ease,table,tower", [(False, False, "all"), (True, False, "new"), (False, True, "new"),
                                                     (True, True, "all")])
def test_scoring_a_subset_of_columns_equals_the_full_scores_restricted(sparse_ease: bool, table: bool, tower: str) -> None:
    ev = _evidence(sparse_ease=sparse_ease, table=table)
    torch.manual_seed(0)
    net = HybridNet(12, 6, TrainConfig(hidden=8, tower_items=tower)).eval()
    flat, offsets = bag(QUERIES, torch.device("cpu"))
    with torch.no_grad():
        h = net.item_vectors(ev.text, ev)
        full = net.score(h, flat, offsets, ev)
        cols = torch.tensor([11, 3, 4, 0, 6])
        sub = net.score(h, flat, offsets, ev, cols)
    np.testing.assert_allclose(sub.numpy(), full[:, cols].numpy(), rtol=1e-5, atol=1e-6)
    masked = mask_queries(sub, flat, offsets, cols).numpy()
    assert np.isneginf(masked[0, 1]) and np.isneginf(masked[2, 4])  # item 3 in query 0, item 6 in query 2
    assert np.isfinite(masked[1]).all()


def test_sparse_message_passing_equals_edge_index_message_passing() -> None:
    ev = _evidence()
    torch.manual_seed(0)
    net = HybridNet(12, 6, TrainConfig(hidden=8)).eval()
    with torch.no_grad():
        sparse = net.item_vectors(ev.text, ev)
        net.sparse_graph = False
        dense = net.item_vectors(ev.text, ev)
    np.testing.assert_allclose(sparse.numpy(), dense.numpy(), rtol=1e-5, atol=1e-6)


def test_top_partners_match_the_dense_gram() -> None:
    rng = np.random.default_rng(3)
    x = sp.csr_matrix((rng.random((200, 30)) < 0.15).astype(np.float32))
    counts = (x.T @ x).toarray()
    np.fill_diagonal(counts, 0)
    got = top_partners(gram(x), 4, 2).toarray()
    for i in range(30):
        row = np.where(counts[i] >= 2, counts[i], 0)
        kept = np.flatnonzero(got[i])
        assert len(kept) == min(4, (row > 0).sum())
        np.testing.assert_array_equal(got[i, kept], row[kept])
        # nothing left out is stronger than what was kept
        assert row[np.setdiff1d(np.arange(30), kept)].max(initial=0) <= row[kept].min(initial=np.inf)


def test_similarity_table_and_per_batch_similarities_agree() -> None:
    from graphassoc.model.net import text_similarities

    with_table, without = _evidence(table=True), _evidence()
    new = (~without.seen).float()
    flat, offsets = bag(QUERIES + [np.array([4, 9]), np.array([9])], torch.device("cpu"))
    for cols in (None, torch.tensor([9, 2, 4])):
        a = text_similarities(with_table, flat, offsets, cols, new)
        b = max_similarity(without.text, flat, offsets, cols, new)
        newcols = ~(without.seen if cols is None else without.seen[cols])
        for x, y in zip(a, b):  # the table holds the new columns only: the term ignores the others
            np.testing.assert_allclose(x[:, newcols].numpy(), y[:, newcols].numpy(), rtol=1e-5, atol=1e-6)
