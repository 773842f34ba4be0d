"""Benchmark `graphassoc export` on the full shared data: wall time and peak memory per format, and
the column-wise RDF / XML writers against the peers they replace (rdflib Graph.serialize,
networkx write_graphml / write_gexf) on the same sample of links, as ratios.

    .venv/bin/python bench/bench_export.py                       # builds the run first if missing
    .venv/bin/python bench/bench_export.py --run /tmp/full_run --sample 50000

Each format runs in its own child process, so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("/work/shared/data/online_retail.parquet")


def build_run(run: Path) -> None:
    from graphassoc.config import load_config
    from graphassoc.pipeline import build_graph

    print(f"building {run} from {DATA} (online_retail preset) ...", flush=True)
    start = time.perf_counter()
    build_graph(load_config("online_retail", ["seed=0"]), DATA, None, run)
    print(f"  built in {time.perf_counter() - start:.0f}s", flush=True)


def one_format(run: Path, fmt: str, out: Path) -> None:
    """Child process: export one format, print a JSON line with time, peak RSS and sizes."""
    from graphassoc.export import export

    start = time.perf_counter()
    result = export(run, fmt, out=out, overwrite=True)
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(json.dumps({"format": fmt, "seconds": round(seconds, 2), "seconds_total": result.timings[fmt]["seconds"],
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "mb_written": round(size / 2**20), "files": result.files[fmt], "counts": result.counts}))


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peers(run: Path, n_links: int, n_rules: int) -> list[tuple[str, float, float]]:
    """(what, seconds here, seconds peer) on the first n_links links and n_rules rules of the run."""
    import networkx as nx
    import rdflib

    from graphassoc.export.config import ExportConfig
    from graphassoc.export.registry import EXPORTERS
    from graphassoc.export.tables import ExportTables, load_tables

    cfg = ExportConfig()
    full = load_tables(run, cfg)
    sample = ExportTables(items=full.items, relations=full.relations.head(n_links), rules=full.rules.head(n_rules))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for fmt, rdflib_name in (("ntriples", "nt"), ("turtle", "turtle")):
            ours = _timed(lambda: EXPORTERS.get(fmt)(sample, out, cfg))
            triples = list(rdflib.Graph().parse(out / "graph.nt", format="nt")) if fmt == "ntriples" else triples

            def peer() -> None:
                graph = rdflib.Graph()
                graph.bind("schema", "https://schema.org/")
                graph.bind("ga", cfg.base_iri + "vocab/")
                for t in triples:
                    graph.add(t)
                graph.serialize(out / "peer.rdf", format=rdflib_name, encoding="utf-8")

            rows.append((f"{fmt}: {len(triples):,} triples (rdflib Graph.add + serialize)", ours, _timed(peer)))
        for fmt, writer in (("graphml", nx.write_graphml), ("gexf", nx.write_gexf)):
            ours = _timed(lambda: EXPORTERS.get(fmt)(sample, out, cfg))

            def peer() -> None:
                graph = nx.MultiDiGraph()
                for row in sample.items.iter_rows(named=True):
                    graph.add_node(row["item_id"], **{k: v for k, v in row.items() if v is not None and k != "item_id"})
                for row in sample.relations.iter_rows(named=True):
                    graph.add_edge(row["src"], row["dst"], **{k: v for k, v in row.items() if v is not None and k not in ("src", "dst")})
                writer(graph, out / f"peer.{fmt}")

            rows.append((f"{fmt}: {sample.relations.height:,} links (networkx build + write_{fmt})", ours, _timed(peer)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=Path(tempfile.gettempdir()) / "graphassoc_bench_export" / "run")
    parser.add_argument("--formats", default="parquet,neo4j,pykeen,graphml,gexf,turtle,ntriples")
    parser.add_argument("--sample", type=int, default=50_000, help="links in the peer comparison")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one_format(args.run, args.one, args.out)
    if not (args.run / "graph" / "edges.parquet").is_file():
        build_run(args.run)
    out_root = Path(tempfile.mkdtemp(prefix="bench_export_"))  # GBs of output: removed after each format
    print(f"{'format':<9} {'seconds':>8} {'peak MB':>8} {'MB out':>7}  files (rows or triples)")
    for fmt in args.formats.split(","):
        child = subprocess.run([sys.executable, __file__, "--run", str(args.run), "--one", fmt, "--out", str(out_root / fmt)],
                               capture_output=True, text=True, cwd=ROOT)
        if child.returncode:
            print(f"{fmt:<9} FAILED: {child.stderr.strip().splitlines()[-1] if child.stderr.strip() else child.returncode}")
            continue
        shutil.rmtree(out_root / fmt, ignore_errors=True)
        r = json.loads(child.stdout.strip().splitlines()[-1])
        files = ", ".join(f"{k} {v:,}" for k, v in r["files"].items())
        print(f"{fmt:<9} {r['seconds']:>8.1f} {r['peak_rss_mb']:>8,} {r['mb_written']:>7,}  {files}", flush=True)
    shutil.rmtree(out_root, ignore_errors=True)
    print("counts:", r["counts"] if "r" in locals() else "-")
    if not args.skip_peers:
        print(f"\nsame sample, this project vs the peer it replaces (first {args.sample:,} links, 2,000 rules):")
        for what, ours, peer in peers(args.run, args.sample, 2_000):
            print(f"  {what:<70} {ours:6.2f}s vs {peer:7.2f}s  = {peer / ours:5.1f}x faster")


if __name__ == "__main__":
    main()
