"""Short links: ``GET /r/<code>`` redirects to the session's full URL (SPEC §3)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .pages import render_message
from .services import services_of

__all__ = ["routes"]


async def short_link(request: Request) -> Response:
    services = services_of(request)
    code = request.path_params["code"]
    found = await services.db.run(services.store.short_link, code)
    if found is None:
        return render_message(request, 404, "not_found")
    full_url, expires_at = found
    if expires_at <= time.time():
        return render_message(request, 410, "expired")
    return RedirectResponse(full_url, 302, headers={"referrer-policy": "no-referrer", "cache-control": "no-store"})


def routes() -> list[Route]:
    return [Route("/r/{code}", short_link, methods=["GET", "HEAD"])]
