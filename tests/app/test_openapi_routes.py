"""The OpenAPI document lists every route of the app, with its methods (issue 9 item 5)."""

from __future__ import annotations

from starlette.applications import Starlette

from headless_redirects.web.hotpath import SESSION_ROUTES
from headless_redirects.web.openapi import document
from tests.conftest import World


def app_routes(world: World) -> set[tuple[str, str]]:
    inner = world.client.app
    while not isinstance(inner, Starlette):
        inner = inner.app  # type: ignore[attr-defined]
    routes = {(r.path, m.lower()) for r in inner.routes for m in (r.methods or ()) if m != "HEAD"}  # type: ignore[attr-defined]
    # the raw-ASGI hot path (web.hotpath) answers these before Starlette
    routes |= {("/oauth2/token", "post"), ("/r/{code}", "get")} | {(p, "post") for p in SESSION_ROUTES}
    return routes


def test_every_route_is_documented(world: World) -> None:
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert app_routes(world) - documented == set()
    assert documented - app_routes(world) == set()


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for item in document()["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
