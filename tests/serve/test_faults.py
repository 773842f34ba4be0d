"""Faults: reload under load (atomic), a corrupt run on reload, a slow client, a bounded flood,
kill -9 and restart (same answers), SIGHUP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import METHOD, copy_run

from graphassoc.serve.app import create_app
from graphassoc.serve.config import ServeConfig
from graphassoc.serve.testing import free_port, running_server

QUERY = {"basket": ["85123A", "22423"], "k": 5}


def _hammer(url: str, stop: threading.Event, statuses: list[int], versions: set[str]) -> None:
    with httpx.Client(timeout=30) as client:
        while not stop.is_set() and len(statuses) < 5000:  # bounded
            res = client.post(f"{url}/recommend", json=QUERY)
            statuses.append(res.status_code)
            if res.status_code == 200:
                versions.add(res.json()["version"])


def test_reload_swaps_atomically_and_a_corrupt_run_keeps_the_old_one(served_run: Path, tmp_path: Path) -> None:
    second = copy_run(served_run, tmp_path / "second")
    corrupt = copy_run(served_run, tmp_path / "corrupt")
    (corrupt / "items.parquet").write_bytes(b"not a parquet file")
    app = create_app(served_run, ServeConfig(methods=[METHOD]))
    with running_server(app) as url:
        first = httpx.get(f"{url}/readyz").json()
        expected = httpx.post(f"{url}/recommend", json=QUERY).json()["items"]
        stop, statuses, versions = threading.Event(), [], set()
        worker = threading.Thread(target=_hammer, args=(url, stop, statuses, versions))
        worker.start()
        try:
            bad = httpx.post(f"{url}/reload", json={"run": str(corrupt)}, timeout=300)
            good = httpx.post(f"{url}/reload", json={"run": str(second)}, timeout=300)
        finally:
            stop.set()
            worker.join(60)
        assert bad.status_code == 422
        assert f"could not load '{corrupt}'" in bad.json()["detail"]
        assert f"still serving '{served_run}' (version {first['version']})" in bad.json()["detail"]
        assert good.status_code == 200 and good.json()["run"] == str(second)
        assert statuses and set(statuses) == {200}  # not one failed request during either reload
        after = httpx.get(f"{url}/readyz").json()
        assert after["run"] == str(second) and after["version"] != first["version"] and after["last_reload_error"] is None
        assert versions <= {first["version"], after["version"]}
        assert httpx.post(f"{url}/recommend", json=QUERY).json()["items"] == expected  # same data, same answers
        metrics = httpx.get(f"{url}/metrics").text
        assert 'graphassoc_reloads_total{outcome="failed"} 1.0' in metrics
        assert 'graphassoc_reloads_total{outcome="ok"} 2.0' in metrics  # the initial load and the good reload


def _half_written(run: Path) -> str:
    (run / "rules.parquet").unlink()  # a build interrupted before its last artifacts
    return "rules.parquet"


def _bad_config(run: Path) -> str:
    (run / "config.yaml").write_text("mining: [not, a, mapping\n")
    return f"run config '{run / 'config.yaml'}' is not valid YAML"


def _truncated_edges(run: Path) -> str:
    edges = run / "graph" / "edges.parquet"
    edges.write_bytes(edges.read_bytes()[:100])
    return ""


@pytest.mark.parametrize("breaks", [_half_written, _bad_config, _truncated_edges])
def test_a_broken_run_on_reload_says_why_and_the_old_run_keeps_answering(served_run: Path, tmp_path: Path, breaks) -> None:
    broken = copy_run(served_run, tmp_path / "broken")
    named = breaks(broken)
    app = create_app(served_run, ServeConfig(methods=[METHOD]))
    with running_server(app) as url:
        expected = httpx.post(f"{url}/recommend", json=QUERY).json()["items"]
        res = httpx.post(f"{url}/reload", json={"run": str(broken)}, timeout=300)
        assert res.status_code == 422
        detail = res.json()["detail"]
        assert f"could not load '{broken}'" in detail and named in detail and "\n" not in detail
        assert f"still serving '{served_run}'" in detail
        assert httpx.post(f"{url}/recommend", json=QUERY).json()["items"] == expected
        ready = httpx.get(f"{url}/readyz").json()
        assert ready["run"] == str(served_run) and ready["last_reload_error"].startswith(f"could not load '{broken}'")
        missing = httpx.post(f"{url}/reload", json={"run": str(tmp_path / "nowhere")}, timeout=60)
        assert missing.status_code == 422 and "nowhere" in missing.json()["detail"]


def test_a_slow_client_and_a_bounded_flood_do_not_stop_the_others(served_run: Path) -> None:
    app = create_app(served_run, ServeConfig(methods=[METHOD]))
    with running_server(app, limit_concurrency=400) as url:
        port = int(url.rsplit(":", 1)[1])
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"bas")
        try:
            # The slow body does not hold the server: this one is answered (a blocked server would time out).
            assert httpx.post(f"{url}/recommend", json=QUERY, timeout=60).status_code == 200

            async def flood_and_probe() -> tuple[list[int], list[bool]]:
                async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100), timeout=120) as client:
                    flood = asyncio.gather(*[client.post(f"{url}/recommend", json=QUERY) for _ in range(400)],
                                           return_exceptions=True)
                    probes = []  # health probes while the flood is queued: answered, and before the flood ends
                    async with httpx.AsyncClient(timeout=60) as prober:
                        for _ in range(3):
                            assert (await prober.get(f"{url}/healthz")).status_code == 200
                            probes.append(flood.done())
                    return [r.status_code if isinstance(r, httpx.Response) else -1 for r in await flood], probes

            codes, probes = asyncio.run(flood_and_probe())
            assert codes == [200] * 400
            assert not all(probes)  # liveness answers on the event loop, not behind the queued queries
            assert httpx.post(f"{url}/recommend", json=QUERY, timeout=10).status_code == 200
        finally:
            slow.close()


def _start(run: Path, port: int, log: Path) -> subprocess.Popen:
    """`graphassoc serve` in its own process (the console script's entry point)."""
    with log.open("ab") as err:
        return subprocess.Popen([sys.executable, "-c", "from graphassoc.cli.main import main; main()", "serve", str(run),
                                 "--port", str(port), "--method", METHOD], stdout=subprocess.DEVNULL, stderr=err)


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            res = httpx.get(f"{url}/readyz", timeout=5)
            if res.status_code == 200:
                return res.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} not ready after {timeout}s")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_kill_9_under_load_then_restart_gives_the_same_answers_and_sighup_reloads(served_run: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    queries = [QUERY, {"item": "85123A", "k": 8}, {"text": "white heart", "k": 5}]
    proc = _start(served_run, port, log)
    try:
        version = _wait_ready(url, proc, log)["version"]
        before = [httpx.post(f"{url}/recommend", json=q).json()["items"] for q in queries]
        stop, statuses = threading.Event(), []
        worker = threading.Thread(target=lambda: _swallow(_hammer, url, stop, statuses, set()))
        worker.start()
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)  # under load
        proc.wait(30)
        stop.set()
        worker.join(60)
        assert statuses.count(200) > 0
        proc = _start(served_run, port, log)
        assert _wait_ready(url, proc, log)["version"] == version
        assert [httpx.post(f"{url}/recommend", json=q).json()["items"] for q in queries] == before
        loaded_at = httpx.get(f"{url}/readyz").json()
        proc.send_signal(signal.SIGHUP)  # reload the same run: still serving, same answers
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "graphassoc_reloads_total{outcome=\"ok\"} 2.0" not in httpx.get(f"{url}/metrics").text:
            time.sleep(0.25)
        assert "graphassoc_reloads_total{outcome=\"ok\"} 2.0" in httpx.get(f"{url}/metrics").text
        assert httpx.get(f"{url}/readyz").json()["version"] == loaded_at["version"]
        assert [httpx.post(f"{url}/recommend", json=q).json()["items"] for q in queries] == before
    finally:
        proc.kill()
        proc.wait(30)


def _swallow(fn, *args) -> None:
    """The hammer's connection breaks when the server is killed: that is the point, not a failure."""
    try:
        fn(*args)
    except httpx.HTTPError:
        pass
