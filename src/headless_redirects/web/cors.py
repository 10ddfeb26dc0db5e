"""CORS for the API (SPEC §10), as pure-ASGI middleware.

- A preflight from an origin allowed for *any* app on the server gets 204 with the allow
  headers (a preflight has no body, so it cannot say which app it is for); any other origin
  gets no CORS headers and the browser blocks the call.
- An actual response carries ``Access-Control-Allow-Origin`` only when the origin is allowed
  for the app or site the request acts for. Handlers name it with :func:`act_for` (the
  ``clientId`` of a token request, the caller's app or site). A request that never got that far
  (malformed, unauthenticated) acts for nobody; the server-wide rule then applies, so that a
  browser can read the documented error body.
- Never ``*`` and never ``Access-Control-Allow-Credentials``: the API uses no cookies.

Apps are cached per process and reloaded when ``apps`` changes, so an app created or updated
by the CLI is honoured within about a second: on PostgreSQL the change is pushed as it commits
(``storage.changes``); otherwise, or while that feed is down, the table is checked at most
once a second.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.origins import canonical_origin, origin_allowed
from ..service.tokens import act_for
from ..storage.changes import ALL
from ..storage.tenancy import AppRow
from .errors import is_api_path
from .services import Services

__all__ = ["ALLOWED_HEADERS", "Cors", "OriginCache", "act_for", "header", "response_headers"]

# Request headers a browser client may send (the official SDK's, and ours).
ALLOWED_HEADERS = frozenset({"authorization", "content-type", "wix-site-id", "x-wix-linguist", "x-wix-bi-gateway",
                             "client-binding", "idempotency-key"})
MAX_AGE = b"600"
_KEY = "cors_for"  # set by ``service.tokens.act_for``


class OriginCache:
    """Which apps and sites each origin is allowed for, rebuilt when the apps change."""

    def __init__(self, services: Services, interval: float = 1.0) -> None:
        self.services = services
        self.interval = interval
        self._next_check = 0.0
        self._fingerprint: tuple[int, int] | None = None
        self._apps: list[AppRow] = []
        self._memo: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._changes = services.changes
        self._stale = True
        self._changes.subscribe(self._changed)

    def _changed(self, table: str) -> None:
        if table in ("apps", ALL):
            self._stale = True

    async def refresh_if_due(self) -> None:
        if self._changes.live and not self._stale:
            return  # nothing changed: the feed would have said so
        now = time.monotonic()
        if now < self._next_check and not self._stale:
            return
        self._stale = False
        self._next_check = now + self.interval
        changed = await self.services.db.read(self.services.tenants.apps_since, self._fingerprint)
        if changed is not None:
            self._fingerprint, self._apps = changed
            self._memo = {}

    def allowed(self, origin: str) -> tuple[frozenset[str], frozenset[str]]:
        """(client ids, site ids) that ``origin`` is allowed for."""
        hit = self._memo.get(origin)
        if hit is None:
            apps = [a for a in self._apps if origin_allowed(origin, a.allowed_domains, a.allowed_origins)]
            hit = frozenset(a.client_id for a in apps), frozenset(a.site_id for a in apps)
            if len(self._memo) > 10_000:
                self._memo.clear()
            self._memo[origin] = hit
        return hit


class Cors:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.origins = OriginCache(services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        raw_origin = header(scope, b"origin")
        if raw_origin is None:
            await self.app(scope, receive, send)
            return
        clients, sites = await self.allowed(raw_origin)
        if scope["method"] == "OPTIONS" and header(scope, b"access-control-request-method") is not None:
            await self._preflight(scope, send, raw_origin, bool(clients))
            return
        state = scope.setdefault("state", {})

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *response_headers(state, raw_origin, clients, sites)]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def allowed(self, raw_origin: str) -> tuple[frozenset[str], frozenset[str]]:
        """(client ids, site ids) that the ``Origin`` header ``raw_origin`` is allowed for."""
        await self.origins.refresh_if_due()
        origin = canonical_origin(raw_origin) or ""
        return self.origins.allowed(origin) if origin else (frozenset(), frozenset())

    async def _preflight(self, scope: Scope, send: Send, origin: str, allowed: bool) -> None:
        headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
        if allowed:
            requested = (header(scope, b"access-control-request-headers") or "").lower()
            names = [h.strip() for h in requested.split(",") if h.strip() in ALLOWED_HEADERS]
            headers += [(b"access-control-allow-origin", origin.encode("latin-1")),
                        (b"access-control-allow-methods", b"GET, POST"),
                        (b"access-control-max-age", MAX_AGE)]
            if names:
                headers.append((b"access-control-allow-headers", ", ".join(names).encode()))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def response_headers(state: dict[str, Any], raw_origin: str, clients: frozenset[str],
                     sites: frozenset[str]) -> list[tuple[bytes, bytes]]:
    """The CORS headers of an actual response (not a preflight) to a request from ``raw_origin``
    (its ``Origin`` header), allowed for ``clients`` and ``sites``; ``state`` says whom the
    request acted for (``act_for``)."""
    acting = state.get(_KEY)
    if acting is None:
        allowed = bool(clients)
    else:
        allowed = acting[1] in (clients if acting[0] == "client" else sites)
    if allowed:
        return [(b"vary", b"Origin"), (b"access-control-allow-origin", raw_origin.encode("latin-1")),
                (b"access-control-expose-headers", b"x-wix-request-id")]
    return [(b"vary", b"Origin")]


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
