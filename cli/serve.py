"""`graphassoc serve`: the HTTP API and explorer page of a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from graphassoc.cli._common import ConfigOption, SetOption, console, friendly_errors
from graphassoc.cli._app import app
from graphassoc.errors import UsageError


@app.command("serve")
@friendly_errors
def serve_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by `graphassoc build-graph` (and `train`)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="TCP port."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes; each loads the run."),
    method: Optional[list[str]] = typer.Option(None, "--method", "-m", help="Ranker(s) to load (repeatable); the first is the default. Default: hybrid with a model, else ease."),
    limit_concurrency: int = typer.Option(512, "--limit-concurrency", min=1, help="Connections handled at once; more get 503 at once."),
    config: Optional[str] = ConfigOption,
    overrides: Optional[list[str]] = SetOption,
) -> None:
    """Serve recommendations, search, rules and an explorer page over HTTP (docs at /docs, metrics at /metrics)."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError("graphassoc serve needs the serve extra: pip install 'graphassoc[serve]'") from None
    from graphassoc.config import load_run_config
    from graphassoc.runs import require_run
    from graphassoc.serve.server import serve

    require_run(run_dir, "config.yaml", "items.parquet", "baskets.parquet", "rules.parquet", "graph/edges.parquet")
    cfg = load_run_config(run_dir, config, overrides).serve
    if method:
        cfg = cfg.model_copy(update={"methods": list(method)})
    console.print(f"serving {run_dir} on http://{host}:{port}/ (API docs: /docs); /readyz answers 200 once loaded")
    serve(run_dir, cfg, host=host, port=port, workers=workers, limit_concurrency=limit_concurrency)
