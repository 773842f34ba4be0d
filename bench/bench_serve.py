"""Load test of `graphassoc serve` on loopback: latency p50/p99 and throughput at concurrency 1, 8, 64,
an open-loop run at a fixed rate, /search with the int8 encoder, and the server's RSS over a soak.

    python bench/bench_serve.py RUN_DIR [--soak 100000] [--rate 200] [--seconds 10]
    python bench/bench_serve.py RUN_DIR --only soak --soak 100000     # the RSS soak alone (RSS every 10k)

The peer is the same Recommender called in-process (no HTTP): the ratio is what the service costs.
The load generator shares the machine (and its CPU cores) with the server: figures are a floor on
what the server does alone. Every phase is bounded in request count and in time. Every figure is
printed with the machine's 1-minute load average at that moment (a shared machine distorts HTTP
latencies far more than the in-process cost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
import polars as pl

from graphassoc.serve.testing import free_port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(run: Path, port: int, extra: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from graphassoc.cli.main import main; main()", "serve", str(run), "--port", str(port), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {' '.join(cmd)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server not ready after 900 s")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def summary(lat: list[float], errors: int, seconds: float) -> dict[str, float]:
    a = np.asarray(lat) * 1000
    return {"n": len(a), "errors": errors, "p50_ms": float(np.percentile(a, 50)) if len(a) else float("nan"),
            "p99_ms": float(np.percentile(a, 99)) if len(a) else float("nan"), "req_per_s": len(a) / seconds,
            "load": load_average()}


async def closed_loop(url: str, requests: list[tuple[str, str, dict | None]], concurrency: int,
                      limit_s: float) -> dict[str, float]:
    """`concurrency` clients, each sending its next request when the last is answered."""
    lat: list[float] = []
    errors = 0
    queue = iter(requests)
    stop = time.monotonic() + limit_s

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal errors
        for method, path, body in queue:
            if time.monotonic() > stop:
                return
            t = time.perf_counter()
            try:
                res = await c.request(method, url + path, json=body)
                ok = res.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                lat.append(time.perf_counter() - t)
            else:
                errors += 1

    start = time.perf_counter()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency), timeout=30) as c:
        await asyncio.gather(*[client(c) for _ in range(concurrency)])
    return summary(lat, errors, time.perf_counter() - start)


async def open_loop(url: str, bodies: list[dict], rate: float, seconds: float, outstanding: int = 64) -> dict[str, float]:
    """Requests sent at a fixed rate whatever the answers (no coordinated omission).

    At most `outstanding` requests are in flight; a request due while that many are still
    unanswered is counted as an error (the server did not keep the rate), never queued.
    """
    lat: list[float] = []
    errors = 0
    in_flight = 0

    async def one(c: httpx.AsyncClient, body: dict) -> None:
        nonlocal errors, in_flight
        in_flight += 1
        t = time.perf_counter()
        try:
            ok = (await asyncio.wait_for(c.post(url + "/recommend", json=body), 30)).status_code == 200
        except (httpx.HTTPError, asyncio.TimeoutError):
            ok = False
        finally:
            in_flight -= 1
        if ok:
            lat.append(time.perf_counter() - t)
        else:
            errors += 1

    n = int(rate * seconds)
    start = time.perf_counter()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=outstanding), timeout=30) as c:
        tasks = []
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight >= outstanding:
                errors += 1
                continue
            tasks.append(asyncio.create_task(one(c, bodies[i % len(bodies)])))
        await asyncio.gather(*tasks)
    out = summary(lat, errors, time.perf_counter() - start)
    out["offered_per_s"] = rate
    return out


def workload(run: Path, n: int, seed: int = 0) -> tuple[list[dict], list[str]]:
    baskets = pl.read_parquet(run / "baskets.parquet").filter(pl.col("split") == "test")["items"].to_list()
    titles = [t for t in pl.read_parquet(run / "items.parquet")["title"].drop_nulls().to_list() if t.strip()]
    rng = random.Random(seed)
    bodies = [{"basket": rng.sample(b, min(len(b), rng.randint(1, 5))), "k": 10} for b in rng.choices(baskets, k=n)]
    # Search words as people type them: 1-3 words of a catalogue title.
    texts = [" ".join(rng.sample(t.lower().split(), min(len(t.split()), rng.randint(1, 3)))) for t in rng.choices(titles, k=n)]
    return bodies, texts


def direct_peer(run: Path, bodies: list[dict], texts: list[str], n: int, method: str | None) -> dict[str, dict]:
    """The same queries answered in this process, loaded as the server loads them (graphassoc.serve.state):
    the service without HTTP, i.e. the per-request cost a loaded machine distorts least."""
    from graphassoc.serve.config import ServeConfig
    from graphassoc.serve.queries import recommend, search
    from graphassoc.serve.schemas import recommend_request_model
    from graphassoc.serve.state import load_run

    cfg = ServeConfig(methods=[method] if method else [], search_int8=True)
    loaded = load_run(run, cfg)
    model = recommend_request_model(cfg)
    out = {}
    for name, calls in (("basket", [lambda b=b: recommend(loaded, model(**b)) for b in bodies[:n]]),
                        ("search", [lambda t=t: search(loaded, t, 10, None) for t in texts[:n // 3]])):
        lat, cpu = [], []
        for call in calls:
            t, c = time.perf_counter(), time.process_time()
            call()
            lat.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        # CPU time (all threads of this process) is what a loaded machine distorts least: it does not
        # count the time the request waited for a core.
        out[f"in-process {name}"] = summary(lat, 0, sum(lat)) | {
            "method": loaded.default_method, "cpu_p50_ms": float(np.percentile(cpu, 50) * 1000),
            "cpu_mean_ms": float(np.mean(cpu) * 1000)}
    return out


def bench_queries(url: str, bodies: list[dict], texts: list[str], args: argparse.Namespace) -> dict:
    results: dict = {}

    def done(name: str, r: dict) -> None:
        results[name] = r
        line(name, r)

    for c in (1, 8, 64):
        reqs = [("POST", "/recommend", b) for b in bodies[:args.requests]]
        done(f"recommend c={c}", asyncio.run(closed_loop(url, reqs, c, args.seconds * 3)))
    done(f"recommend open loop {args.rate:.0f}/s", asyncio.run(open_loop(url, bodies, args.rate, args.seconds)))
    for c in (1, 8, 64):
        reqs = [("GET", "/search?" + urlencode({"q": t, "k": 10}), None) for t in texts[:args.requests // 2]]
        done(f"search c={c}", asyncio.run(closed_loop(url, reqs, c, args.seconds * 2)))
    return results


def line(name: str, r: dict) -> None:
    cpu = f"  (CPU p50 {r['cpu_p50_ms']:.2f} ms, mean {r['cpu_mean_ms']:.2f} ms)" if "cpu_p50_ms" in r else ""
    print(f"{name:34} {r['n']:>7} {r['errors']:>5} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['req_per_s']:>8.1f} "
          f"{r.get('load', float('nan')):>6.1f}{cpu}", flush=True)


def soak(url: str, pid: int, bodies: list[dict], total: int, every: int, limit_s: float) -> list[dict]:
    """RSS of the server every `every` requests; bounded by `total` requests and `limit_s` seconds."""
    samples = [{"requests": 0, "rss_mb": rss_mb(pid), "load": load_average(), "errors": 0}]
    step = max(min(every, total), 1)
    stop = time.monotonic() + limit_s
    for done in range(step, total + 1, step):
        reqs = [("POST", "/recommend", bodies[i % len(bodies)]) for i in range(done - step, done)]
        r = asyncio.run(closed_loop(url, reqs, 16, max(stop - time.monotonic(), 1)))
        samples.append({"requests": done, "rss_mb": rss_mb(pid), "load": load_average(), "errors": r["errors"],
                        "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"]})
        print(f"soak {done:>7} requests: RSS {samples[-1]['rss_mb']:.1f} MB, p50 {r['p50_ms']:.1f} ms, "
              f"{r['errors']} errors, load {samples[-1]['load']}", flush=True)
        if time.monotonic() > stop:
            break
    return samples


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--requests", type=int, default=2000, help="requests per closed-loop phase (bounded)")
    p.add_argument("--seconds", type=float, default=10.0, help="time bound per phase; open-loop duration")
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--soak", type=int, default=100_000, help="requests of the RSS soak (0: skip)")
    p.add_argument("--soak-every", type=int, default=10_000, help="RSS sample every N soak requests")
    p.add_argument("--soak-seconds", type=float, default=3600.0, help="time bound of the soak")
    p.add_argument("--only", choices=["all", "queries", "soak"], default="all",
                   help="queries: latency phases and the in-process peer; soak: the RSS soak alone")
    p.add_argument("--method", default=None, help="ranker to serve (default: the run's, hybrid with a model)")
    p.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = p.parse_args()
    bodies, texts = workload(args.run, max(args.requests * 8, 5000))
    print(f"cores: {os.cpu_count()} (shared with the load generator and anything else running); load {load_average()}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    extra = ["--method", args.method] if args.method else []
    proc = start_server(args.run, port, ["--set", "serve.search_int8=true", *extra])
    try:
        ready = httpx.get(url + "/readyz").json()
        print(f"serving {ready['run']} ({ready['items']} items, method {ready['default_method']}, int8 search); "
              f"RSS {rss_mb(proc.pid):.0f} MB")
        print(f"\n{'phase':34} {'n':>7} {'err':>5} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'load':>6}")
        results = bench_queries(url, bodies, texts, args) if args.only != "soak" else {}
        soaked = args.soak and args.only != "queries"
        results["soak_rss_mb"] = soak(url, proc.pid, bodies, args.soak, args.soak_every, args.soak_seconds) if soaked else []
    finally:
        proc.terminate()
        proc.wait(30)
    if args.only != "soak":
        results.update(direct_peer(args.run, bodies, texts, 600, args.method))
    report(results, args)


def report(results: dict, args: argparse.Namespace) -> None:
    print(f"\n{'phase':34} {'n':>7} {'err':>5} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'load':>6}")
    for name, r in results.items():
        if name != "soak_rss_mb":
            line(name, r)
    if "in-process basket" in results:
        direct, c1 = results["in-process basket"], results["recommend c=1"]
        print(f"\nHTTP / in-process p50 ratio (c=1): {c1['p50_ms'] / direct['p50_ms']:.2f}x "
              f"(p99 {c1['p99_ms'] / direct['p99_ms']:.2f}x)")
        rate = results[f"recommend open loop {args.rate:.0f}/s"]
        print(f"target basket p99 <= 25 ms at {args.rate:.0f}/s with 0 errors: p99 {rate['p99_ms']:.1f} ms, "
              f"{rate['errors']} errors, achieved {rate['req_per_s']:.0f}/s (load {rate['load']})")
        print(f"target /search p99 <= 50 ms (int8): c=1 p99 {results['search c=1']['p99_ms']:.1f} ms; "
              f"in-process p99 {results['in-process search']['p99_ms']:.1f} ms")
    soak = results["soak_rss_mb"]
    if soak:
        print("soak RSS (requests, MB, load): " + ", ".join(f"({s['requests']}, {s['rss_mb']:.0f}, {s['load']})" for s in soak))
        mid = soak[len(soak) // 2]
        print(f"RSS from the soak's middle to its end: {soak[-1]['rss_mb'] - mid['rss_mb']:+.1f} MB over "
              f"{soak[-1]['requests'] - mid['requests']} requests; errors {sum(s['errors'] for s in soak)}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
