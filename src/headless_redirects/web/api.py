"""The Create Redirect Session API (SPEC §3). The official SDK calls the first route."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .responses import decode_json, json_response, read_body
from .services import services_of

__all__ = ["SESSION_ROUTES", "routes"]

SESSION_ROUTES = (
    "/_api/redirects-api/v1/redirect-session",
    "/redirect-session/v1/redirect-session",
    "/headless/v1/redirect-session",
)


async def create_redirect_session(request: Request) -> Response:
    services = services_of(request)
    headers = request.headers
    # Authentication first: an anonymous caller learns nothing about the body's validity.
    caller = await services.db.run(
        services.sessions.authenticate, headers.get("authorization"), headers.get("wix-site-id")
    )
    body = decode_json(await read_body(request, services.settings.max_body_bytes))
    result = await services.db.run(services.sessions.create, caller, body, headers.get("x-wix-linguist"))
    return json_response(result)


def routes() -> list[Route]:
    return [Route(path, create_redirect_session, methods=["POST"]) for path in SESSION_ROUTES]
