"""A real uvicorn server on a free loopback port, in a thread: for tests and bench/bench_serve.py."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(app: Any, limit_concurrency: int | None = None, ready_path: str = "/readyz",
                   timeout: float = 300.0) -> Iterator[str]:
    """Yield the base URL once `ready_path` answers 200; stop the server on exit (bounded waits)."""
    import httpx
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            limit_concurrency=limit_concurrency, timeout_keep_alive=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + ready_path, timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"server on {url} not ready after {timeout:.0f}s")
            time.sleep(0.2)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
