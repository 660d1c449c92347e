"""Prometheus metrics: request counts and latencies by route, served at /metrics."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("stoa_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("stoa_http_request_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
# With STOA_REDIS_URL, rate limits are counted in Redis; while it cannot be reached each process counts in
# its own memory instead (a limit per process rather than none). These say when that happens.
RATE_LIMIT_FALLBACK = Counter("stoa_rate_limit_fallback_total",
                              "Requests whose rate limits were counted in this process's memory because the "
                              "shared store (Redis) was unreachable")
RATE_LIMIT_STORE_UP = Gauge("stoa_rate_limit_store_up",
                            "1 while rate limits are counted in the shared store (Redis), 0 while this process "
                            "counts them in memory instead")


class MetricsMiddleware:
    """Counts and times requests, labelled by route template (not raw path: bounded cardinality)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._paths: dict[object, str] | None = None

    def _route(self, scope: Scope) -> str:
        if self._paths is None:
            routes = getattr(getattr(scope.get("app"), "router", None), "routes", [])
            self._paths = {getattr(r, "endpoint", None): str(getattr(r, "path", "")) for r in routes}
        return self._paths.get(scope.get("endpoint"), "unmatched")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = self._route(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
