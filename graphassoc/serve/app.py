"""The FastAPI app of `graphassoc serve`: the JSON API of GUIDE.md section 3, ops routes, the explorer page.

Query routes are plain `def` handlers: FastAPI runs them in its thread pool, so a slow ranker call
never blocks the event loop (health checks, metrics and other clients keep being answered).
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations, and /recommend's
# body model is built per app (its limits come from the config), so it is not a module-level name.
import asyncio
import contextlib
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any, AsyncIterator, Optional

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from graphassoc.errors import GraphassocError
from graphassoc.serve import queries
from graphassoc.serve.config import ServeConfig
from graphassoc.serve.metrics import Metrics, MetricsMiddleware
from graphassoc.serve.schemas import ReloadRequest, RecommendResponse, RulesResponse, recommend_request_model
from graphassoc.serve.state import Holder, LoadedRun, ReloadBusy, ReloadFailed

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("graphassoc.serve")
# Which config key sets the limit a 422 names (`graphassoc serve RUN --set serve.max_k=200`).
LIMIT_SETTINGS = {"basket": "serve.max_basket", "text": "serve.max_text_chars", "q": "serve.max_text_chars",
                  "k": "serve.max_k", "limit": "serve.max_rules"}


def create_app(run_dir: str | Path, cfg: ServeConfig | None = None, load_in_background: bool = True) -> FastAPI:
    """An app serving run_dir; it answers /healthz at once and /readyz 200 once the run is loaded."""
    cfg = cfg or ServeConfig()
    holder = Holder(Path(run_dir), cfg)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        loader = threading.Thread(target=_initial_load, args=(holder, metrics), daemon=True)
        loader.start()
        if not load_in_background:
            await asyncio.get_running_loop().run_in_executor(None, loader.join)
        _on_sighup(holder, metrics)
        yield

    app = FastAPI(title="graphassoc", version=_version(), lifespan=lifespan,
                  description="Product associations of one run directory: recommendations with evidence, "
                              "search, rules, items. The explorer page is at /.")
    app.state.holder, app.state.metrics = holder, metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    _error_handlers(app)
    _query_routes(app, holder, cfg)
    _ops_routes(app, holder, metrics)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def explorer() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` with several workers: each worker process loads the run itself."""
    from graphassoc.serve.server import one_thread_per_request

    one_thread_per_request()  # in each worker process: the parent's setting does not cross the spawn
    cfg = ServeConfig.model_validate_json(os.environ.get("GRAPHASSOC_SERVE_CONFIG", "{}"))
    return create_app(os.environ["GRAPHASSOC_SERVE_RUN"], cfg)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("graphassoc")
    except metadata.PackageNotFoundError:
        return "0"


def _initial_load(holder: Holder, metrics: Metrics) -> None:
    holder.load_initial()
    _count_reload(holder, metrics, holder.current is not None)


def _count_reload(holder: Holder, metrics: Metrics, ok: bool) -> None:
    metrics.reloads.labels(outcome="ok" if ok else "failed").inc()
    if ok and holder.current is not None:
        cur = holder.current
        metrics.serving(str(cur.path), cur.version, list(cur.recommenders))


def _on_sighup(holder: Holder, metrics: Metrics) -> None:
    """SIGHUP reloads the current run directory (as nginx and gunicorn do); only in the main thread."""
    def reload_in_thread() -> None:
        def work() -> None:
            try:
                holder.reload()
                _count_reload(holder, metrics, True)
            except (ReloadBusy, ReloadFailed):
                _count_reload(holder, metrics, False)

        threading.Thread(target=work, daemon=True).start()

    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError, AttributeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_in_thread)


def _current(holder: Holder) -> LoadedRun:
    run = holder.current
    if run is None:
        detail = holder.error or "the run is still loading; retry when GET /readyz answers 200"
        raise HTTPException(503, detail=detail, headers={"Retry-After": "2"})
    return run


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(p for p in first["loc"] if p not in ("body", "query", "path"))
        msg = first["msg"].removeprefix("Value error, ")
        limit = LIMIT_SETTINGS.get(where)
        hint = f" (limit set by {limit})" if limit and ("at most" in msg or "less than" in msg) else ""
        return JSONResponse(status_code=422, content={"detail": f"{where + ': ' if where else ''}{msg}{hint}",
                                                      "errors": errors})

    @app.exception_handler(GraphassocError)
    async def usage(_request: Request, exc: GraphassocError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})


# Scoring routes take turns in a worker process. FastAPI runs sync routes on a pool of up to 40
# threads; eight requests scoring at once on 2 cores thrashed (numpy/torch threads, the GIL): 119
# req/s at concurrency 8 against 262 at 1. Queued, a request waits its turn instead; the ops routes
# are async and never wait. More cores: `--workers N` processes, each with its own turn.
SCORING = threading.Lock()


def _query_routes(app: FastAPI, holder: Holder, cfg: ServeConfig) -> None:
    body_model: Any = recommend_request_model(cfg)

    @app.post("/recommend", response_model=RecommendResponse, tags=["recommend"])
    def recommend(body: body_model) -> dict[str, Any]:  # type: ignore[valid-type]
        """Recommendations for a basket, an item or a free text; unknown ids are reported, not fatal."""
        with SCORING:
            return queries.recommend(_current(holder), body)

    @app.get("/related/{item_id}", response_model=RecommendResponse, tags=["recommend"])
    def related(item_id: str, k: int = Query(10, ge=1, le=cfg.max_k), method: Optional[str] = None) -> dict[str, Any]:
        """Items bought with this item, with their evidence."""
        with SCORING:
            return queries.related(_current(holder), item_id, k, method)

    @app.get("/search", response_model=RecommendResponse, tags=["recommend"])
    def search(q: str = Query(..., min_length=1, max_length=cfg.max_text_chars),
               k: int = Query(10, ge=1, le=cfg.max_k), method: Optional[str] = None) -> dict[str, Any]:
        """Catalogue items matching a free text (encoder cosine, re-ranked by co-purchase evidence)."""
        with SCORING:
            return queries.search(_current(holder), q, k, method)

    @app.get("/rules", response_model=RulesResponse, tags=["explore"])
    def rules(item: Optional[str] = None, sort: queries.RuleSort = "lift", descending: bool = True,
              min_confidence: float = Query(0.0, ge=0, le=1), min_lift: float = Query(0.0, ge=0),
              limit: int = Query(50, ge=1, le=cfg.max_rules)) -> dict[str, Any]:
        """Association rules mentioning the item (or all), filtered and sorted."""
        return queries.rules(_current(holder), item, sort, descending, min_confidence, min_lift, limit)

    @app.get("/items/{item_id}", tags=["explore"])
    def item(item_id: str, neighbours: int = Query(10, ge=0, le=50)) -> dict[str, Any]:
        """The catalogue row of an item and its co-purchase neighbourhood (for the graph view)."""
        return queries.item(_current(holder), item_id, neighbours)


def _ops_routes(app: FastAPI, holder: Holder, metrics: Metrics) -> None:
    # The ops routes are `async def`: they answer on the event loop, never queued behind a busy
    # thread pool, so probes and scrapes still get through a flood of queries.
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process answers (liveness); says nothing about the run."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """200 once a run is loaded (with its version and methods), else 503 with the reason."""
        cur = holder.current
        if cur is None:
            state = "failed" if holder.error else "loading"
            return JSONResponse(status_code=503, content={"status": state, "error": holder.error})
        return JSONResponse({"status": "ready", "run": str(cur.path), "version": cur.version,
                             "methods": list(cur.recommenders), "default_method": cur.default_method,
                             "items": len(cur.default.item_ids), "last_reload_error": holder.error})

    @app.get("/metrics", tags=["ops"])
    async def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(content=body, media_type=content_type)

    @app.post("/reload", tags=["ops"])
    def reload(body: Optional[ReloadRequest] = None) -> JSONResponse:
        """Load a run directory (default: the current one again) and swap it in atomically.

        Requests in flight finish on the old run; a run that fails to load leaves the old one
        serving, and the answer (422) says why.
        """
        target = Path(body.run) if body and body.run else None
        try:
            loaded = holder.reload(target)
        except ReloadBusy as err:
            return JSONResponse(status_code=409, content={"detail": str(err)})
        except ReloadFailed as err:
            _count_reload(holder, metrics, False)
            cur = holder.current
            still = f"; still serving '{cur.path}' (version {cur.version})" if cur else "; no run is being served"
            return JSONResponse(status_code=422, content={"detail": f"{err}{still}"})
        _count_reload(holder, metrics, True)
        return JSONResponse({"status": "reloaded", "run": str(loaded.path), "version": loaded.version,
                             "methods": list(loaded.recommenders)})
