"""Prometheus metrics of the service: requests, latency per route, errors, reloads, the run served.

Each app owns its CollectorRegistry (never the process-global one), so two apps in one process,
as in the tests, do not collide.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Latency buckets around the service's targets (p99 25 ms for /recommend, 50 ms for /search).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("graphassoc_requests_total", "HTTP requests answered", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("graphassoc_request_seconds", "Time to answer a request", ["route"],
                                 buckets=BUCKETS, registry=self.registry)
        self.errors = Counter("graphassoc_errors_total", "Requests answered with a 5xx status", ["route"],
                              registry=self.registry)
        self.in_flight = Gauge("graphassoc_requests_in_flight", "Requests being answered", registry=self.registry)
        self.reloads = Counter("graphassoc_reloads_total", "Run reloads", ["outcome"], registry=self.registry)
        self.unknown_items = Counter("graphassoc_unknown_items_total", "Query item ids not in the catalogue",
                                     registry=self.registry)
        self.model = Gauge("graphassoc_model_info", "The run being served (value 1)", ["run", "version", "method"],
                           registry=self.registry)

    def serving(self, run: str, version: str, methods: list[str]) -> None:
        self.model.clear()
        for method in methods:
            self.model.labels(run=run, version=version, method=method).set(1)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """A plain ASGI middleware: Starlette's BaseHTTPMiddleware (`@app.middleware("http")`) runs every
    request through a task group and memory streams, a per-request cost this one does not have.
    Added with app.add_middleware(MetricsMiddleware, metrics=...)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        m, start, status = self.metrics, time.perf_counter(), 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        m.in_flight.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            m.in_flight.dec()
            # The router puts the matched route in the scope: its template (/items/{item_id}), never the
            # raw path, so label values stay bounded.
            name = getattr(scope.get("route"), "path", None) or "unmatched"
            m.latency.labels(route=name).observe(time.perf_counter() - start)
            m.requests.labels(route=name, method=scope.get("method", ""), status=str(status)).inc()
            if status >= 500:
                m.errors.labels(route=name).inc()
