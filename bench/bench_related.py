"""Related items of new products (no sales history before the test cut), before and after text-neighbour borrowing.

    python bench/bench_related.py RUN_DIR [--rankers model,served] [--tasks i2b,loo] [--gate TAU,BETA,LAMBDA]

For every catalogue item without history in the evidence window (train + valid), its top-10 related
list, by the model with `cold_neighbours` off (before: an empty EASE row, so every item with history
ties and the popularity tie-break fills the list) and on (after: the EASE rows of its nearest items
with history by text). Figures: distinct top-10 lists among the new products, distinct top-1 items,
the share of new products whose top-1 is the most common one, the mean overlap of two new products'
lists and the share of list slots held by the 20 best sellers; then the item-to-basket protocol of
`compare` (graphassoc/evaluate/protocol.item_to_basket: one seeded item of each test basket asks for
the others) restricted to queries whose item has no history ("never-seen item-to-basket"), HR@10 and
Recall@10; with --tasks, item-to-basket on every query and leave-one-out basket completion (the
headline HR@10 and its never-seen stratum: queries holding a new product change too). `served` runs the
default ranker `graphassoc serve` answers with (the hybrid with a model), fitted as Recommender.load fits it.
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


def i2b_figures(score: ScoreFn, i2b, popularity: np.ndarray, tiebreak: np.ndarray, prefix: str) -> dict[str, float]:
    from graphassoc.evaluate.metrics import per_query_multi
    from graphassoc.evaluate.protocol import evaluate_multi

    m = per_query_multi(evaluate_multi(score, i2b, tiebreak))
    return {f"{prefix} queries": len(i2b), f"{prefix} HR@10": float(m["hr@10"].mean()),
            f"{prefix} R@10": float(m["recall@10"].mean())}


def never_seen_i2b(i2b, popularity: np.ndarray):
    """The item-to-basket queries whose item has no history: a new product asks for the rest of its basket."""
    from graphassoc.evaluate.protocol import MultiQueries

    keep = [i for i, q in enumerate(i2b.query) if popularity[q[0]] == 0]
    return MultiQueries(i2b.split, [i2b.basket_ids[i] for i in keep], [i2b.query[i] for i in keep],
                        [i2b.targets[i] for i in keep])


def loo_figures(score: ScoreFn, loo, popularity: np.ndarray, tiebreak: np.ndarray) -> dict[str, float]:
    """The headline task (leave-one-out basket completion): HR@10 overall and on never-seen targets."""
    from graphassoc.evaluate.protocol import evaluate

    hit = evaluate(score, loo, tiebreak, k=10).ranks <= 10
    return {"LOO HR@10": float(hit.mean()), "LOO never-seen HR@10": float(hit[popularity[loo.target] == 0].mean())}


def figures(score: ScoreFn, data: dict, tasks: list[str]) -> dict[str, float]:
    pop, pos = data["popularity"], data["tiebreak"]
    out = list_figures(score, data["new"], pos)
    out |= i2b_figures(score, data["i2b never-seen"], pop, pos, "i2b never-seen")
    if "i2b" in tasks:
        out |= i2b_figures(score, data["i2b"], pop, pos, "i2b all")
    if "loo" in tasks:
        out |= loo_figures(score, data["loo"], pop, pos)
    return out


def show(name: str, out: dict, seconds: float) -> None:
    text = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items())
    print(f"{name:24} {text} [{seconds:.0f}s, load {os.getloadavg()[0]:.1f}]", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--mode", default=None, help="trained mode (default: the best on validation)")
    p.add_argument("--rankers", default="model,served", help="model: the trained mode; served: the served default ranker")
    p.add_argument("--tasks", default="i2b,loo", help="beyond the lists and never-seen item-to-basket: i2b (every query), "
                                                      "loo (leave-one-out basket completion, the headline task)")
    p.add_argument("--gate", default=None, help="TAU,BETA,LAMBDA: the hybrid's tuned gate and EASE lambda (as `recommend` "
                                                "prints them), to skip tuning on validation")
    args = p.parse_args()
    from graphassoc.evaluate.protocol import item_to_basket, leave_one_out, tiebreak_positions
    from graphassoc.model import load_model
    from graphassoc.runs import Run

    print(f"load: {os.getloadavg()[0]:.1f} (1-min average, {os.cpu_count()} cores)")
    run = Run(args.run, "baskets.parquet", "items.parquet")
    seed = run.config.evaluate.seed if run.config.evaluate.seed is not None else (run.config.seed or 0)
    model = load_model(args.run, args.mode)
    index = {item: i for i, item in enumerate(model.items["item_id"].to_list())}
    i2b = item_to_basket(run.baskets(), index, "test", seed)
    data = {"popularity": model.popularity, "tiebreak": tiebreak_positions(model.popularity),
            "new": np.flatnonzero(model.popularity == 0), "i2b": i2b, "i2b never-seen": never_seen_i2b(i2b, model.popularity),
            "loo": leave_one_out(run.baskets(), index, "test", seed)}
    tasks = args.tasks.split(",")
    if "model" in args.rankers:
        for on in (False, True):
            model.cold_neighbours = on
            t = time.perf_counter()
            show(f"model-{model.train_cfg.mode} {'after' if on else 'before'}", figures(model.score_baskets, data, tasks),
                 time.perf_counter() - t)
    if "served" in args.rankers:
        served(args.run, data, tasks, args.gate)


def served(run_dir: Path, data: dict, tasks: list[str], gate: str | None) -> None:
    """The served default ranker (the hybrid with a model), fitted as Recommender.load fits it: before = the
    trained scorer alone and the gate as it was (evidence weight pop / (pop + tau) even for a query without
    any evidence), after = cold query items borrowing their text neighbours' rows and such a query left to the model."""
    from graphassoc.rankers.context import RankContext
    from graphassoc.rankers.model import ModelRanker
    from graphassoc.rankers.hybrid import zscore
    from graphassoc.recommend.service import default_method, make_ranker
    from graphassoc.runs import Run

    run = Run(run_dir, "items.parquet", "baskets.parquet")
    cfg = run.config
    seed = cfg.evaluate.seed if cfg.evaluate.seed is not None else (cfg.seed or 0)
    ctx = RankContext(run.path, run.items(), run.baskets(), "test", seed, cfg.evaluate, cfg)
    if gate:  # the values tuning chose, where the rankers look for them
        tau, beta, lam = (float(v) for v in gate.split(","))
        mode = _best_mode(run.path)
        ctx.cache.update({"ease:lambda": lam, "hybrid:gate": (lambda: ModelRanker(mode), tau, beta, float("nan"), {})})
    method = default_method(run.path)
    hybrid = make_ranker(method, ctx).fit(ctx)
    print(f"served ranker: {method} {hybrid.notes}")
    models = [v for k, v in ctx.cache.items() if k.startswith("model:") and k.endswith(":test")]
    titles = ctx.items["title"].to_list()

    def before(queries: Sequence[np.ndarray]) -> np.ndarray:
        z_e, z_m = zscore(hybrid.evidence.score(queries)), zscore(hybrid.model.score(queries))
        return (hybrid.alpha[None, :] * z_e + (1 - hybrid.alpha[None, :]) * hybrid.beta * z_m).astype(np.float32)

    for on, score in ((False, before if hasattr(hybrid, "alpha") else hybrid.score), (True, hybrid.score)):
        for m in models:
            m.cold_neighbours = on
        t = time.perf_counter()
        show(f"served {method} {'after' if on else 'before'}", figures(score, data, tasks), time.perf_counter() - t)
        examples(titles, score, data["new"][:: max(len(data["new"]) // 4, 1)][:4], data["tiebreak"])


def _best_mode(run: Path) -> str:
    from graphassoc.model.load import _valid_rank
    from graphassoc.runs import trained_modes

    return max(trained_modes(run), key=lambda m: _valid_rank(Path(run) / "model" / m))


def examples(titles: list[str], score: ScoreFn, items: np.ndarray, tiebreak: np.ndarray) -> None:
    from graphassoc.evaluate.protocol import exclude_query_items, top_k

    queries = [np.array([i]) for i in items]
    for i, top in zip(items, top_k(exclude_query_items(np.array(score(queries), dtype=np.float32), queries), 5, tiebreak)):
        print(f"    {str(titles[i])[:34]:34} -> " + " | ".join(str(titles[j])[:28] for j in top))


if __name__ == "__main__":
    main()
