"""Batch recommendation speed: the test split's leave-one-out queries through `write_batch`, per method.

Run on the full shared data (build the run once):
    .venv/bin/graphassoc build-graph --transactions /work/shared/data/online_retail.parquet \
        --config online_retail --out /tmp/full-rec
    .venv/bin/python bench/bench_recommend.py /tmp/full-rec [--methods ease cooccurrence ...] [-k 10]

Prints per method: load (fit, tuning reused from RUN/recommend/tuned.json after the first time),
batch time and queries/second for the whole JSONL round trip (parse, score in chunks, top-k, write),
HR@10 of the hidden items (a sanity check against ../shared/data/README.md), and the peer: the same
ranker called one query at a time (what a naive service loop does), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from graphassoc.errors import GraphassocError
from graphassoc.recommend.service import Recommender, write_batch

DEFAULT_METHODS = ["popularity", "cooccurrence", "rules", "ease", "text", "hybrid"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--methods", nargs="+", default=DEFAULT_METHODS)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--peer-queries", type=int, default=500, help="queries scored one at a time for the peer ratio")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        queries_file = Path(tmp) / "queries.jsonl"
        targets: dict[str, str] = {}
        for method in args.methods:
            start = time.perf_counter()
            try:
                rec = Recommender.load(args.run_dir, method)
            except GraphassocError as err:
                print(f"{method:>14}: skipped ({err})")
                continue
            load_s = time.perf_counter() - start
            if not targets:  # the protocol's test queries, written once as the batch input
                queries = rec.ctx.queries("test")
                with queries_file.open("w") as fh:
                    for bid, query, target in zip(queries.basket_ids, queries.query, queries.target):
                        fh.write(json.dumps({"id": bid, "basket": [rec.item_ids[i] for i in query]}) + "\n")
                        targets[bid] = rec.item_ids[int(target)]
            out = Path(tmp) / f"recs-{method}.jsonl"
            summary = write_batch(rec, queries_file, out, args.k)
            lines = [json.loads(x) for x in out.read_text().splitlines()]
            hr = np.mean([targets[x["id"]] in x["items"][:10] for x in lines])
            # Peer: the same queries scored one per ranker call (a naive service loop) against chunked
            # scoring, both without file I/O, on the first --peer-queries queries.
            sample = [rec.resolve(json.loads(x)["basket"]) for x in queries_file.read_text().splitlines()[:args.peer_queries]]
            start = time.perf_counter()
            rec._top(rec.scores(sample), args.k)
            chunked_qps = len(sample) / (time.perf_counter() - start)
            start = time.perf_counter()
            for query in sample:
                rec._top(rec.scores([query]), args.k)
            single_qps = len(sample) / (time.perf_counter() - start)
            rows.append((method, load_s, summary.queries, summary.seconds, summary.per_second, chunked_qps / single_qps, hr))
            print(f"{method:>14}: load {load_s:6.1f}s  batch file {summary.queries:,} queries in {summary.seconds:6.2f}s "
                  f"= {summary.per_second:8,.0f} q/s; scoring chunked {chunked_qps:8,.0f} q/s vs one-at-a-time "
                  f"{single_qps:7,.0f} q/s (x{chunked_qps / single_qps:.1f})  HR@10 {hr:.3f}  errors {len(summary.errors)}",
                  flush=True)

    print("\n| method | load s | queries | batch file s | queries/s | chunked / one-at-a-time | HR@10 |")
    print("|---|---|---|---|---|---|---|")
    for method, load_s, n, secs, qps, ratio, hr in rows:
        print(f"| {method} | {load_s:.1f} | {n:,} | {secs:.2f} | {qps:,.0f} | x{ratio:.1f} | {hr:.3f} |")


if __name__ == "__main__":
    main()
