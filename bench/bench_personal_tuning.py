"""Memory of the personal ranker's validation tuning at catalogue size, against the dense peer.

The tuning (graphassoc/users/tuning.py) scores validation queries one block at a time and keeps
O(history lines) per query; the peer, the former tuning, held queries x catalogue float arrays
(the z-scored base, the dense repeat matrix and the combined scores: 3 of them). A synthetic shop
(random customer histories, a random base scorer) at the given catalogue size:

    python bench/bench_personal_tuning.py --items 62000 --queries 4000 --chunk 512

prints the tuning's peak traced memory (tracemalloc: numpy allocations included), the peer's
dense arrays alone, and their ratio. Not run in CI.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from graphassoc.evaluate.protocol import Queries
from graphassoc.users.history import UserHistory
from graphassoc.users.tuning import tuning_set


def synthetic_history(rng: np.random.Generator, n_users: int, n_items: int, baskets: int, size: int) -> UserHistory:
    rows = [np.unique(rng.integers(0, n_items, size)) for _ in range(n_users * baskets)]
    ptr = np.r_[0, np.cumsum([len(r) for r in rows])].astype(np.int64)
    times = np.tile(np.arange(baskets, dtype=np.int64), n_users)
    return UserHistory({str(u): u for u in range(n_users)}, np.arange(0, n_users * baskets + 1, baskets, dtype=np.int64),
                       times, ptr, np.concatenate(rows).astype(np.int64), n_items)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--items", type=int, default=62_000)
    p.add_argument("--queries", type=int, default=4_000)
    p.add_argument("--chunk", type=int, default=512)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    history = synthetic_history(rng, a.queries, a.items, baskets=8, size=20)
    queries = Queries("valid", [str(u) for u in range(a.queries)],
                      [np.unique(rng.integers(0, a.items, 10)) for _ in range(a.queries)], rng.integers(0, a.items, a.queries))
    users, before = [str(u) for u in range(a.queries)], np.full(a.queries, 8, dtype=np.int64)
    score = lambda block, _sig: rng.standard_normal((len(block), a.items), dtype=np.float32)  # noqa: E731
    tracemalloc.start()
    start = time.perf_counter()
    tset = tuning_set(score, history, queries, users, before, [1.0, 0.9, 0.8, 0.6, 0.4], np.arange(a.items), chunk=a.chunk)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    dense = 3 * a.queries * a.items * 4
    print(f"items {a.items:,} queries {a.queries:,} chunk {a.chunk}: {len(tset.base):,} history entries kept, "
          f"{seconds:.1f}s")
    print(f"tuning peak {peak / 2**20:,.0f} MiB | dense peer {dense / 2**20:,.0f} MiB (3 queries x catalogue float32) | "
          f"ratio {dense / peak:.1f}x")


if __name__ == "__main__":
    main()
