"""Liveness and readiness."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .responses import json_response
from .services import services_of

__all__ = ["routes"]


async def healthz(_request: Request) -> Response:
    return json_response({"status": "ok"})


def _ping(services: object) -> None:
    with services.db.engine.connect() as c:  # type: ignore[attr-defined]
        c.execute(sa.text("SELECT 1"))


async def readyz(request: Request) -> Response:
    services = services_of(request)
    try:
        await services.db.run(_ping, services)
    except Exception:  # noqa: BLE001 - any failure means not ready
        return json_response({"status": "unavailable", "database": "unreachable"}, 503)
    return json_response({"status": "ok", "database": "ok"})


def routes() -> list[Route]:
    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
