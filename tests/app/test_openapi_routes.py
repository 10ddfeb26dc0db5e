"""The OpenAPI document lists every route of the app, with its methods, and no route the app
lacks (issue 9 item 5)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from headless_redirects.web.hotpath import HotPath
from headless_redirects.web.openapi import document
from tests.conftest import World


def app_routes(world: World) -> set[tuple[str, str]]:
    """(path template, method) of each route: the raw-ASGI hot path's (``web.hotpath``, which
    answers before Starlette) and the Starlette app's."""
    routes: set[tuple[str, str]] = set()
    inner: Any = world.client.app
    while not isinstance(inner, Starlette):
        if isinstance(inner, HotPath):
            routes |= {(path, "post") for path in inner.routes} | {("/r/{code}", "get")}
        inner = inner.app
    assert routes, "the hot path is no longer in the middleware chain: list its routes here"
    assert all(isinstance(r, Route) for r in inner.routes), "a Mount or another router: list its routes here"
    routes |= {(r.path, m.lower()) for r in inner.routes if isinstance(r, Route) for m in (r.methods or ())
               if m != "HEAD"}
    return routes


def test_every_route_is_documented(world: World) -> None:
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert app_routes(world) - documented == set(), "routes the document lacks"
    assert documented - app_routes(world) == set(), "documented routes the app lacks"


def test_the_health_metrics_short_link_and_hosted_routes_are_among_them(world: World) -> None:
    routes = app_routes(world)
    assert {("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get"), ("/r/{code}", "get"),
            ("/_api/oauth2/authorize", "get"), ("/_api/oauth2/authorize", "post")} <= routes


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for item in document()["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
