"""Run the service under uvicorn: one process, or several workers each loading the run."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from graphassoc.serve.config import ServeConfig


def one_thread_per_request() -> None:
    """Score each request on one core: torch and the BLAS libraries use one thread in this process.

    A request is one basket or one short text: too small to split across cores, and a worker's
    requests take turns anyway (app.SCORING). Two intra-op threads on a busy 2-core machine (the
    load generator, a second worker) spin-wait on each other: basket /recommend took 27 ms at p50
    instead of 2 ms, /search 470 ms instead of 20 (tested in-process beside a CPU-bound job). More
    cores serve more requests through `--workers N`, one process per core.
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)  # kept for the life of the process (not used as a context manager)


def serve(run_dir: Path, cfg: ServeConfig, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          limit_concurrency: int | None = 512, log_level: str = "info") -> None:
    """Blocks until the server stops (Ctrl-C / SIGTERM).

    limit_concurrency bounds the connections handled at once: beyond it uvicorn answers 503 at
    once instead of queueing without bound, so a flood cannot starve memory.
    """
    import uvicorn

    one_thread_per_request()
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO), format="%(asctime)s %(name)s %(message)s")
    common = dict(host=host, port=port, limit_concurrency=limit_concurrency, log_level=log_level,
                  timeout_keep_alive=5, access_log=False)
    if workers > 1:
        # Worker processes import the app by name; the run and config travel in the environment.
        os.environ["GRAPHASSOC_SERVE_RUN"] = str(run_dir)
        os.environ["GRAPHASSOC_SERVE_CONFIG"] = json.dumps(cfg.model_dump(mode="json"))
        uvicorn.run("graphassoc.serve.app:app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
        return
    from graphassoc.serve.app import create_app

    uvicorn.run(create_app(run_dir, cfg), **common)  # type: ignore[arg-type]
