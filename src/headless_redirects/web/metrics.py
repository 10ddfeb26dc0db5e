"""Prometheus metrics: requests by route and status, and their durations; ``GET /metrics``.

Routes are labelled by template (``/r/{code}``, ``/flow/...``), never by raw path, so the label
set stays small. Each worker process exposes its own numbers.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Metrics", "route_label"]

_FIXED_PREFIXES = ("/_api/redirects-api/", "/redirect-session/", "/headless/", "/oauth2/", "/.well-known/",
                   "/_api/oauth2/", "/flow/")


def route_label(path: str) -> str:
    if path.startswith("/r/"):
        return "/r/{code}"
    if path.startswith(_FIXED_PREFIXES) or path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        return path if len(path) <= 64 else "other"
    return "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("headless_redirects_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.duration = Histogram("headless_redirects_request_seconds", "Time to answer a request",
                                  ["route"], registry=self.registry,
                                  buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        # ``labels()`` costs more than the counting itself; its children are kept per key.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        route = "/r/{code}" if path.startswith("/r/") else path
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            label = route_label(path)
            children = (self.requests.labels(method, label, str(status)), self.duration.labels(label))
            if len(self._children) < 10_000:
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def routes(self) -> list[Route]:
        async def metrics(_request: Request) -> Response:
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return [Route("/metrics", metrics, methods=["GET"])]
