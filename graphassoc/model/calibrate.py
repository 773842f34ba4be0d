"""New-item exposure: one offset on the scores of items without history, chosen on validation.

The softmax objective fits which item comes next; it does not decide how many brand-new products
a top 10 should show. Each new item in a list takes a slot from an item with history, so HR@10 on
new-product targets is bought with HR@10 on the others. After each epoch, the offset is swept on
the validation queries (several hidden-item draws, as the few new-product targets of one draw are a
noisy guide) and the trade-off is saved as newness.json and newness.png. The offset kept is the one
with the best overall HR@10 among those whose never-seen HR@10 reaches `train.new_item_hr`
(none set, or none reaching it: the best overall HR@10). Validation sweeps it twice, with the GNN
tower in the scores and without it, and keeps the better (model/validation.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from graphassoc.evaluate.protocol import Queries, exclude_query_items
from graphassoc.runs import write_json

GRID_POINTS = 1001


@dataclass
class NewItemCalibration:
    offsets: list[float]
    hr10: list[float]  # overall validation HR@10 per offset
    hr10_never_seen: list[float]  # on targets without history
    chosen: float
    target: float | None
    target_met: bool
    queries: int
    never_seen_queries: int
    tower_on: bool = True  # whether the sweep scored with the GNN tower (TowerTerm.on)

    def save(self, directory: Path) -> None:
        write_json(directory / "newness.json", asdict(self))
        plot_tradeoff(self, directory / "newness.png")


def calibrate_new_items(scores: Callable[[list[np.ndarray]], np.ndarray], new: np.ndarray, queries: Queries,
                        pos: np.ndarray, target: float | None, chunk: int = 1024, tower_on: bool = True) -> NewItemCalibration:
    """Sweep the offset added to new items' scores; `scores` gives (n_queries, n_items) with the offset at 0.

    Exact and cheap: with query items excluded, each query's hit is a step in the offset d. A target
    with history stays in the top 10 while d <= its score minus the k-th best new item's score (k =
    the slots its own side leaves); a new target enters once d > the k-th best other item's score
    minus its own. One pass over the scores gives every query's step; the sweep only compares.
    Ties on the target's own side are broken by `pos`, as the protocol does (a model without text
    scores all new items alike: counting those ties as misses or hits decides everything). Ties
    across the sides happen at isolated offsets only; the metrics reported for the chosen offset are
    recomputed by the protocol itself (graphassoc/model/training.py, validate).
    """
    never_seen = new[queries.target]
    steps = np.empty(len(queries))
    for start in range(0, len(queries), chunk):
        part = queries.query[start:start + chunk]
        base = exclude_query_items(scores(part).astype(np.float64), part)
        steps[start:start + len(part)] = hit_steps(base, new, queries.target[start:start + len(part)], pos)
    # HR@10 only changes at a step: sweep the span of the finite steps (the trained new-item bias may sit
    # anywhere), GRID_POINTS offsets, and 0 (the trained scores) among them.
    finite = steps[np.isfinite(steps)]
    lo, hi = (float(finite.min()) - 0.5, float(finite.max()) + 0.5) if len(finite) else (-1.0, 1.0)
    grid = np.unique(np.round(np.append(np.linspace(lo, hi, GRID_POINTS), 0.0), 4))
    hits = np.where(never_seen[None, :], grid[:, None] > steps[None, :], grid[:, None] <= steps[None, :])
    hr = hits.mean(axis=1)
    hr_new = hits[:, never_seen].mean(axis=1) if never_seen.any() else np.zeros(len(grid))
    ok = hr_new >= target if target is not None and never_seen.any() else np.zeros(len(grid), dtype=bool)
    pool = np.flatnonzero(ok) if ok.any() else np.arange(len(grid))
    # Best overall HR@10 in the pool; among equals, the offset closest to 0 (the trained scores).
    best = max(pool, key=lambda k: (hr[k], -abs(grid[k])))
    return NewItemCalibration([float(g) for g in grid], [round(float(v), 5) for v in hr],
                              [round(float(v), 5) for v in hr_new], float(grid[best]), target, bool(ok.any()),
                              len(queries), int(never_seen.sum()), tower_on)


def hit_steps(base: np.ndarray, new: np.ndarray, target: np.ndarray, pos: np.ndarray, k: int = 10) -> np.ndarray:
    """Per query, the offset d where its target's top-k hit flips: hit iff d <= step (target with history)
    or d > step (new target). -inf / +inf: never / always in the top k whatever d."""
    rows = np.arange(len(target))
    own = base[rows, target]
    target_new = new[target]
    same_side = np.where(target_new[:, None] == new[None, :], base, -np.inf)
    other_side = np.where(target_new[:, None] != new[None, :], base, -np.inf)
    ahead = (same_side > own[:, None]) | ((same_side == own[:, None]) & (pos[None, :] < pos[target][:, None]))
    left = k - ahead.sum(axis=1)  # top-k slots left for the other side
    top = -np.sort(np.partition(-other_side, k - 1, axis=1)[:, :k], axis=1)  # the other side's k best, best first
    kth = np.where(left >= 1, top[rows, np.clip(left - 1, 0, k - 1)], np.inf)
    # With history: the left-th best new item (score + d) must not beat it. New: it must beat that many others.
    step = np.where(target_new, kth - own, own - kth)
    never = (left < 1) | ~np.isfinite(own)
    return np.where(never, np.where(target_new, np.inf, -np.inf), step)


def plot_tradeoff(cal: NewItemCalibration, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(cal.hr10_never_seen, cal.hr10, color="tab:blue")
    k = cal.offsets.index(cal.chosen)
    ax.scatter([cal.hr10_never_seen[k]], [cal.hr10[k]], s=80, color="tab:red", zorder=3,
               label=f"chosen offset {cal.chosen:+.2f}, tower {'on' if cal.tower_on else 'off'}")
    if cal.target is not None:
        ax.axvline(cal.target, color="grey", linestyle="--", label=f"train.new_item_hr = {cal.target}")
    ax.set(xlabel=f"validation HR@10, never-seen targets ({cal.never_seen_queries} queries)",
           ylabel=f"validation HR@10, all ({cal.queries} queries)",
           title="New-item offset: new products vs the rest")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
