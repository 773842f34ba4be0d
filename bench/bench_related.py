"""Related items of new products (no sales history before the test cut), before and after text-neighbour borrowing.

    python bench/bench_related.py RUN_DIR [--mode frozen] [--hybrid]

For every catalogue item without history in the evidence window (train + valid), its top-10 related
list, by the model with `cold_neighbours` off (before: an empty EASE row, so every item with history
ties and the popularity tie-break fills the list) and on (after: the EASE rows of its nearest items
with history by text). Figures: distinct top-10 lists among the new products, distinct top-1 items,
the share of new products whose top-1 is the most common one, the mean overlap of two new products'
lists and the share of list slots held by the 20 best sellers; then the item-to-basket protocol of
`compare` (graphassoc/evaluate/protocol.item_to_basket: one seeded item of each test basket asks for
the others) restricted to queries whose item has no history ("never-seen item-to-basket"), HR@10 and
Recall@10, and the same on every query (unchanged for items with history, by construction).
`--hybrid` also runs the served default ranker (graphassoc.recommend.service.Recommender) both ways.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ScoreFn = Callable[[Sequence[np.ndarray]], np.ndarray]


def list_figures(score: ScoreFn, new: np.ndarray, tiebreak: np.ndarray, k: int = 10) -> dict[str, float]:
    from graphassoc.evaluate.protocol import exclude_query_items, top_k

    queries = [np.array([i]) for i in new]
    tops = np.concatenate([top_k(exclude_query_items(np.array(score(queries[s:s + 256]), dtype=np.float32), queries[s:s + 256]),
                                 k, tiebreak) for s in range(0, len(queries), 256)])
    first = Counter(tops[:, 0].tolist())
    # How alike the lists are: the mean share of a list's items another new product's list also holds,
    # and the share of list slots held by the 20 best sellers (the popularity tie-break's first items).
    hits = np.zeros((len(tops), len(tiebreak)), dtype=np.float32)
    hits[np.repeat(np.arange(len(tops)), k), tops.ravel()] = 1
    shared = hits @ hits.T
    pairwise = (shared.sum() - np.trace(shared)) / max(len(tops) * (len(tops) - 1), 1) / k
    return {"new_products": len(new), "distinct_top10_lists": len({tuple(t) for t in tops.tolist()}),
            "distinct_top1": len(first), "share_with_commonest_top1": first.most_common(1)[0][1] / len(new),
            "pairwise_overlap": float(pairwise), "best_seller_slots": float((tiebreak[tops] < 20).mean())}


def i2b_figures(score: ScoreFn, i2b, popularity: np.ndarray, tiebreak: np.ndarray) -> dict[str, float]:
    from graphassoc.evaluate.metrics import per_query_multi
    from graphassoc.evaluate.protocol import evaluate_multi

    ranks = evaluate_multi(score, i2b, tiebreak)
    m = per_query_multi(ranks)
    cold = np.array([popularity[q[0]] == 0 for q in i2b.query])
    return {"never_seen_queries": int(cold.sum()), "never_seen_hr@10": float(m["hr@10"][cold].mean()),
            "never_seen_recall@10": float(m["recall@10"][cold].mean()),
            "all_queries": len(cold), "all_hr@10": float(m["hr@10"].mean())}


def loo_figures(score: ScoreFn, loo, popularity: np.ndarray, tiebreak: np.ndarray) -> dict[str, float]:
    """The headline task (leave-one-out basket completion): HR@10 overall and on never-seen targets."""
    from graphassoc.evaluate.protocol import evaluate

    hit = evaluate(score, loo, tiebreak, k=10).ranks <= 10
    return {"loo_hr@10": float(hit.mean()), "loo_never_seen_hr@10": float(hit[popularity[loo.target] == 0].mean())}


def show(name: str, lists: dict, i2b: dict, seconds: float) -> None:
    print(f"{name:24} new={lists['new_products']} distinct lists={lists['distinct_top10_lists']} "
          f"distinct top-1={lists['distinct_top1']} commonest top-1 share={lists['share_with_commonest_top1']:.3f} "
          f"pairwise overlap={lists['pairwise_overlap']:.3f} top-20 best-seller slots={lists['best_seller_slots']:.3f} | "
          f"i2b never-seen ({i2b['never_seen_queries']}) HR@10={i2b['never_seen_hr@10']:.4f} "
          f"R@10={i2b['never_seen_recall@10']:.4f} | i2b all ({i2b['all_queries']}) HR@10={i2b['all_hr@10']:.4f} "
          f"[{seconds:.0f}s]", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--mode", default=None, help="trained mode (default: the best on validation)")
    p.add_argument("--hybrid", action="store_true", help="also the served default ranker (slower: fits it)")
    args = p.parse_args()
    from graphassoc.evaluate.protocol import item_to_basket, leave_one_out
    from graphassoc.model import load_model
    from graphassoc.runs import Run

    print(f"load: {os.getloadavg()[0]:.1f} (1-min average, {os.cpu_count()} cores)")
    run = Run(args.run, "baskets.parquet", "items.parquet")
    seed = run.config.evaluate.seed if run.config.evaluate.seed is not None else (run.config.seed or 0)
    model = load_model(args.run, args.mode)
    popularity = model.popularity
    from graphassoc.evaluate.protocol import tiebreak_positions

    tiebreak = tiebreak_positions(popularity)
    index = {item: i for i, item in enumerate(model.items["item_id"].to_list())}
    i2b = item_to_basket(run.baskets(), index, "test", seed)
    loo = leave_one_out(run.baskets(), index, "test", seed)
    new = np.flatnonzero(popularity == 0)
    for on in (False, True):
        model.cold_neighbours = on
        t = time.perf_counter()
        score = model.score_baskets
        lists = list_figures(score, new, tiebreak)
        figures = i2b_figures(score, i2b, popularity, tiebreak) | loo_figures(score, loo, popularity, tiebreak)
        show(f"model-{model.train_cfg.mode} {'after' if on else 'before'}", lists, figures, time.perf_counter() - t)
    if args.hybrid:
        served(args.run, new, i2b, loo, popularity, tiebreak)


def served(run: Path, new: np.ndarray, i2b, loo, popularity: np.ndarray, tiebreak: np.ndarray) -> None:
    """The served default ranker (the hybrid with a model): before = the trained scorer alone and the
    gate as it was (evidence weight pop / (pop + tau) even when the query has no evidence at all)."""
    from graphassoc.recommend.rankers import zscore
    from graphassoc.recommend.service import Recommender

    rec = Recommender.load(run)
    hybrid = rec.ranker
    models = [v for k, v in rec.ctx.cache.items() if k.startswith("model:") and k.endswith(":test")]

    def before(queries: Sequence[np.ndarray]) -> np.ndarray:
        z_e, z_m = zscore(hybrid.evidence.score(queries)), zscore(hybrid.model.score(queries))
        return (hybrid.alpha[None, :] * z_e + (1 - hybrid.alpha[None, :]) * hybrid.beta * z_m).astype(np.float32)

    for on, score in ((False, before if hasattr(hybrid, "alpha") else hybrid.score), (True, hybrid.score)):
        for m in models:
            m.cold_neighbours = on
        t = time.perf_counter()
        lists = list_figures(score, new, tiebreak)
        figures = i2b_figures(score, i2b, popularity, tiebreak) | loo_figures(score, loo, popularity, tiebreak)
        show(f"served {rec.method} {'after' if on else 'before'}", lists, figures, time.perf_counter() - t)
        examples(rec, score, new[:: max(len(new) // 4, 1)][:4], tiebreak)


def examples(rec, score: ScoreFn, items: np.ndarray, tiebreak: np.ndarray) -> None:
    from graphassoc.evaluate.protocol import exclude_query_items, top_k

    queries = [np.array([i]) for i in items]
    for i, top in zip(items, top_k(exclude_query_items(np.array(score(queries), dtype=np.float32), queries), 5, tiebreak)):
        print(f"    {rec.titles[i][:34]:34} -> " + " | ".join(rec.titles[j][:28] for j in top))


if __name__ == "__main__":
    main()
