"""Routes of the session API (SPEC §12)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..service.create_session import Caller
from ..service.tokens import act_for
from .responses import json_response
from .services import Services, services_of

__all__ = ["routes"]

BASE = "/_api/redirects-api/v1"
_NO_STORE = {"cache-control": "no-store"}


async def _caller(request: Request, services: Services) -> Caller:
    caller = await services.db.read(services.sessions.authenticate, request.headers.get("authorization"),
                                    request.headers.get("wix-site-id"))
    act_for(request.scope.setdefault("state", {}), client_id=caller.client_id, site_id=caller.tenant.site.id)
    if services.api_limits.enabled:
        await services.api_limits.check(caller.tenant.site.id, caller.api_key_id)
    return caller


async def get_session(request: Request) -> Response:
    services = services_of(request)
    caller = await _caller(request, services)
    result = await services.db.read(services.session_api.get, caller, request.path_params["session_id"])
    return json_response(result, headers=_NO_STORE)


async def list_sessions(request: Request) -> Response:
    services = services_of(request)
    caller = await _caller(request, services)
    result = await services.db.read(services.session_api.list, caller, dict(request.query_params))
    return json_response(result, headers=_NO_STORE)


async def expire_session(request: Request) -> Response:
    services = services_of(request)
    caller = await _caller(request, services)
    result = await services.db.run(services.session_api.expire, caller, request.path_params["session_id"])
    return json_response(result, headers=_NO_STORE)


def routes() -> list[Route]:
    return [
        Route(f"{BASE}/redirect-session/{{session_id}}", get_session, methods=["GET"]),
        Route(f"{BASE}/redirect-session/{{session_id}}/expire", expire_session, methods=["POST"]),
        Route(f"{BASE}/redirect-sessions", list_sessions, methods=["GET"]),
    ]
