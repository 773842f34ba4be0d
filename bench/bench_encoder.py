"""Encoder throughput: graphassoc's encode_texts vs sentence-transformers' encode, same model, same titles.

Usage: .venv/bin/python bench/bench_encoder.py [RUN_DIR] [--threads 2] [--repeats 3]
Titles: items.parquet of RUN_DIR (the 3,900 UCI products on the full data), else the bundled fixture's.
Prints seconds per pass (best of --repeats), the throughput ratio ours/peer (goal >= 1.0), the int8
dynamic-quantisation option's gain, and how close int8 vectors are (cosine) and how the frozen
text-only ranker's validation HR@10 changes with them when RUN_DIR is given.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl
import torch


def titles_of(run_dir: str | None) -> list[str]:
    if run_dir:
        return pl.read_parquet(Path(run_dir) / "items.parquet")["title"].to_list()
    fixture = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "online_retail_sample.parquet"
    return pl.read_parquet(fixture)["Description"].drop_nulls().unique().sort().to_list()


def best_of(fn, repeats: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def text_hr10(run_dir: str, vectors: np.ndarray) -> float:
    """Frozen text-only ranker (max cosine to the query items) on valid leave-one-out, evidence = train."""
    from graphassoc.evaluate.protocol import basket_matrix, evaluate, history_popularity, leave_one_out, tiebreak_positions

    b = pl.read_parquet(Path(run_dir) / "baskets.parquet")
    items = pl.read_parquet(Path(run_dir) / "items.parquet")
    index = {k: i for i, k in enumerate(items["item_id"].to_list())}
    q = leave_one_out(b, index, "valid", 0)
    pos = tiebreak_positions(history_popularity(basket_matrix(b.filter(pl.col("split") == "train"), index, items.height)))
    sims = vectors @ vectors.T
    ranks = evaluate(lambda qs: np.stack([sims[x].max(0) for x in qs]), q, pos).ranks
    return float((ranks <= 10).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from sentence_transformers import SentenceTransformer

    from graphassoc.text.config import TextConfig
    from graphassoc.text.encoder import default_model_dir, encode_texts

    texts = titles_of(args.run_dir)
    cfg = TextConfig(batch_size=args.batch)
    peer = SentenceTransformer(str(default_model_dir()), device="cpu")
    encode_texts(texts[:8], cfg)  # load once, outside the timing (both sides)
    peer.encode(texts[:8])
    t_ours, ours = best_of(lambda: encode_texts(texts, cfg), args.repeats)
    t_peer, ref = best_of(lambda: peer.encode(texts, batch_size=args.batch, normalize_embeddings=True), args.repeats)
    q_cfg = TextConfig(batch_size=args.batch, quantize="int8")
    encode_texts(texts[:8], q_cfg)
    t_q, quant = best_of(lambda: encode_texts(texts, q_cfg), args.repeats)
    print(f"texts: {len(texts)}, threads: {args.threads}, batch: {args.batch}, best of {args.repeats}")
    print(f"sentence-transformers encode : {t_peer:7.2f} s  ({len(texts) / t_peer:7.1f} texts/s)")
    print(f"graphassoc encode_texts      : {t_ours:7.2f} s  ({len(texts) / t_ours:7.1f} texts/s)")
    print(f"throughput ratio ours/peer   : {t_peer / t_ours:7.2f}  (goal >= 1.0)")
    print(f"max |ours - peer|            : {np.abs(ours - ref).max():.2e}")
    print(f"int8 dynamic quantisation    : {t_q:7.2f} s  gain vs fp32 x{t_ours / t_q:.2f}, "
          f"mean cosine to fp32 {float((quant * ours).sum(1).mean()):.4f}")
    if args.run_dir:
        print(f"text-only valid HR@10        : fp32 {text_hr10(args.run_dir, ours):.4f}, int8 {text_hr10(args.run_dir, quant):.4f}")


if __name__ == "__main__":
    main()
