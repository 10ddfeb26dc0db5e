"""Prometheus metrics: requests by route and status, and their durations; ``GET /metrics``.

Routes are labelled by template (``/r/{code}``, ``/oauth2/token``, the template of a Starlette
route with parameters), never by raw path: a path that matches no route is ``other``, so no
request can add a time series.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``serve`` sets it), every worker process writes its
numbers to files in that folder and ``/metrics``, whichever worker answers it, reports the sum
over the instance's workers (prometheus_client's multiprocess mode). Business counters
(``service.counters``) are exposed beside the request metrics.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from ..loops import LoopCache
from ..service import counters

__all__ = ["MULTIPROC_ENV", "Metrics", "learn_routes", "route_label"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SHORT_LINK = "/r/{code}"
OTHER = "other"

# Route templates, learned from the app's routes (``learn_routes``) and the raw-ASGI hot path.
_static: dict[str, str] = {"/metrics": "/metrics"}
_dynamic: list[tuple[re.Pattern[str], str]] = []


def learn_routes(routes: Iterable[BaseRoute], prefix: str = "") -> None:
    for route in routes:
        if isinstance(route, Mount):
            learn_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            template = prefix + route.path
            if "{" in template:
                if all(t != template for _, t in _dynamic):
                    _dynamic.append((re.compile("^" + re.escape(prefix) + route.path_regex.pattern[1:]), template))
            else:
                _static[template] = template


def _learn_hot_path() -> None:
    from .hotpath import SESSION_ROUTES

    for path in (*SESSION_ROUTES, "/oauth2/token"):
        _static[path] = path


def route_label(path: str) -> str:
    """The template of the route ``path`` matches, else ``other``."""
    if path.startswith("/r/"):
        return SHORT_LINK
    label = _static.get(path)
    if label is not None:
        return label
    for pattern, template in _dynamic:
        if pattern.match(path):
            return template
    return OTHER


class Metrics:
    def __init__(self) -> None:
        _learn_hot_path()
        self.registry = CollectorRegistry()
        self.requests = Counter("headless_redirects_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.duration = Histogram("headless_redirects_request_seconds", "Time to answer a request",
                                  ["route"], registry=self.registry,
                                  buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        # What this loop turn's requests add, per (method, route, status): the count, the sum of
        # durations and a count per bucket; handed to prometheus_client's values once a turn
        # (``flush``). Measured: counting each request into those values (a lock and, with
        # several workers, a write to a mapped file apiece) cost 1.2 µs of a short link.
        self._pending: dict[tuple[str, str, int], list[float]] = {}
        # ``labels()`` costs more than the counting itself; its children are kept per key.
        self._children: dict[tuple[str, str, int], tuple[Any, Any, list[Any]]] = {}
        self._bounds = list(self.duration._upper_bounds)
        self._loops = LoopCache()

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        self.observe_route(method, route_label(path), status, seconds)

    def observe_route(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request whose route template (``route_label``) is known already: in the
        exposition by the end of this loop turn, at once outside a loop."""
        pending = self._pending
        later = bool(pending)  # a flush is on its way already
        if not later:
            loop = self._loops.running()
            if loop is not None:
                loop.call_soon(self.flush)
                later = True
        key = (method, route, status)
        tally = pending.get(key)
        if tally is None:
            tally = pending[key] = [0.0] * (len(self._bounds) + 2)
        tally[0] += 1
        tally[1] += seconds
        tally[2 + bisect_left(self._bounds, seconds)] += 1
        if not later:
            self.flush()

    def flush(self) -> None:
        """Add what the requests since the last flush counted to prometheus_client's values."""
        pending, self._pending = self._pending, {}
        for key, tally in pending.items():
            children = self._children.get(key)
            if children is None:
                method, route, status = key
                histogram = self.duration.labels(route)
                # The values behind ``Counter.inc`` and ``Histogram.observe``, added to as those
                # two add, without their checks for exemplars and observability.
                children = self._children[key] = (  # bounded: templates × methods × statuses
                    self.requests.labels(method if method in _METHODS else OTHER, route, str(status))._value,
                    histogram._sum, histogram._buckets)
            count, total, buckets = children
            count.inc(tally[0])
            total.inc(tally[1])
            for bucket, n in zip(buckets, tally[2:], strict=True):
                if n:
                    bucket.inc(n)

    def exposition(self) -> bytes:
        self.flush()
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry) + generate_latest(counters.REGISTRY)

    def routes(self) -> list[Route]:
        async def metrics(_request: Request) -> Response:
            return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST)

        return [Route("/metrics", metrics, methods=["GET"])]


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
