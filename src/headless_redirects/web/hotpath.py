"""The hot path in raw ASGI: short links, the token endpoint and Create Redirect Session.

These three carry nearly all the traffic, and on a slow core Starlette's routing, request and
response objects cost more than the work itself (measured: ~175 µs per short link through the
router against ~20 µs of storage work). Here each is one dictionary lookup away from its
handler, and these paths live only here (a wrong method gets its 405 here too); everything else
falls through to Starlette. The handlers call the same services and the same error mapping as
the rest of the app.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ..domain.intents import INTENTS
from ..service import counters
from .cors import Cors, act_for, header, response_headers
from .errors import api_error, is_api_path, log_unhandled
from .idempotent import idempotent_create
from .metrics import SHORT_LINK, route_label
from .middleware import REQUEST_ID_HEADER, RequestIdMiddleware
from .oauth import NO_STORE, token_body, token_params
from .pages import render_message
from .responses import decode_json, read_limited
from .services import Services

__all__ = ["SESSION_ROUTES", "Edge", "HotPath"]

# Create Redirect Session answers on three paths; the official SDK calls the first.
SESSION_ROUTES = (
    "/_api/redirects-api/v1/redirect-session",
    "/redirect-session/v1/redirect-session",
    "/headless/v1/redirect-session",
)

_encode = msgspec.json.Encoder().encode
_INTENTS = frozenset(INTENTS)
_JSON = (b"content-type", b"application/json")
_NO_STORE = [(k.encode(), v.encode()) for k, v in NO_STORE.items()]
_REDIRECT_HEADERS = [(b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]
_NO_LENGTH = (b"content-length", b"0")
REQUEST_ID = REQUEST_ID_HEADER.encode()


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body
Handler = Callable[[Scope, Receive], Awaitable[Answer]]


class HotPath:
    """The hot paths' handlers, and the ASGI app that answers them (else hands on to ``app``)
    inside the middleware chain; ``Edge`` answers their common requests before that chain."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.limit = services.settings.max_body_bytes
        self.routes: dict[str, Handler] = {"/oauth2/token": self.token}
        for path in SESSION_ROUTES:
            self.routes[path] = self.create_session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            method = scope["method"]
            if path.startswith("/r/"):
                if method in ("GET", "HEAD"):
                    await _send(send, *await self.guard(self.short_link, scope, receive))
                else:
                    await render_message(None, 405, "error", headers={"allow": "GET, HEAD"})(scope, receive, send)
                return
            handler = self.routes.get(path)
            if handler is not None:
                if method != "POST":
                    handler = _method_not_allowed
                await _send(send, *await self.guard(handler, scope, receive))
                return
        await self.app(scope, receive, send)

    async def guard(self, handler: Handler, scope: Scope, receive: Receive) -> Answer:
        try:
            return await handler(scope, receive)
        except Exception as exc:  # noqa: BLE001 - every error gets the documented body
            return failure(exc, scope)

    # --- handlers ------------------------------------------------------------------------------

    async def short_link(self, scope: Scope, receive: Receive) -> Answer:
        services = self.services
        return short_answer(await services.db.read(services.sessions.short_link, scope["path"][3:]))

    async def token(self, scope: Scope, receive: Receive) -> Answer:
        headers = _headers(scope)
        body = await read_limited(receive, headers.get(b"content-length"), self.limit)
        params = token_params(body, headers.get(b"content-type", b"").decode("latin-1"))
        tokens = self.services.tokens
        signer = tokens.signer
        # The signature (made in another process) is asked for before the turn's commit is awaited.
        issued, signing = await self.services.db.run_then(
            tokens.begin_signature, signer.drop, tokens.prepare_grant, params, _text(headers, b"authorization"),
            scope.setdefault("state", {}))
        result = issued.answer(await signer.finish(signing))
        _count_token(params["grant_type"])
        return 200, [_JSON, *_NO_STORE], token_body(result)

    async def create_session(self, scope: Scope, receive: Receive) -> Answer:
        services = self.services
        headers = _headers(scope)
        # Authentication first: an anonymous caller learns nothing about the body's validity.
        caller = await services.db.read(
            services.sessions.authenticate, _text(headers, b"authorization"), _text(headers, b"wix-site-id")
        )
        act_for(scope.setdefault("state", {}), client_id=caller.client_id, site_id=caller.tenant.site.id)
        if services.api_limits.enabled:
            await services.api_limits.check(caller.tenant.site.id, caller.api_key_id)
        raw = await read_limited(receive, headers.get(b"content-length"), self.limit)
        key = _text(headers, b"idempotency-key")
        if key is not None:
            return await idempotent_create(services, caller, key, raw, _text(headers, b"x-wix-linguist"))
        linguist = _text(headers, b"x-wix-linguist")
        # The common shapes straight from the bytes; anything else (and every refusal) through
        # the full validator, which lists every violation.
        created = await services.db.run(services.sessions.create_fast, caller, raw, linguist)
        if created is None:
            body = decode_json(raw)
            result = await services.db.run(services.sessions.create, caller, body, linguist)
            intent = _intent_of(body)
        else:
            result, intent = created
        _count_session(intent)
        return 200, [_JSON], _encode(result)


class Edge:
    """The outermost ASGI app. The hot paths' common requests (a short link's GET or HEAD, a
    POST to the token or session endpoints) are answered here, with what the middleware chain
    adds (the request id, CORS, metrics, the access line) done inline: measured, the chain's
    layers and their per-request ``send`` wrappers cost a served short link more than its
    storage work. Everything else, those paths' other methods and CORS preflights included,
    goes through the chain (``app``), which does the same for them as middleware. The first
    call also starts the instance's background work (webhooks, the expiry sweeper)."""

    def __init__(self, chain: RequestIdMiddleware, hot: HotPath, cors: Cors, services: Services) -> None:
        self.app = self.ids = chain  # the chain's outermost layer gives the request id
        self.hot = hot
        self.cors = cors
        self.services = services
        self.started = False
        self.read_now = services.db.read_now
        self.lookup = services.sessions.short_links  # what ``SessionService.short_link`` answers, called directly
        # PostgreSQL's async pool: the lookup awaited from the loop, without a greenlet of its own.
        self.lookup_awaited = (services.store.sessions.short_link_awaited
                               if services.db.async_pools is not None else None)
        # path -> (handler, route label, whether CORS applies)
        self.posts: dict[str, tuple[Handler, str, bool]] = {
            path: (handler, route_label(path), is_api_path(path)) for path, handler in hot.routes.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.started:
            self.started = True
            if self.services.settings.webhook_dispatcher:
                self.services.dispatcher.start()
        if scope["type"] == "http":
            method = scope["method"]
            if method == "POST":
                route = self.posts.get(scope["path"])
                if route is not None:
                    await self.answer(scope, receive, send, *route)
                    return
            elif method in ("GET", "HEAD") and scope["path"].startswith("/r/"):
                await self.short_link(scope, send)
                return
        await self.app(scope, receive, send)

    async def short_link(self, scope: Scope, send: Send) -> None:
        """``answer`` for a short link, without the handler's coroutines: where
        ``Database.read`` would call the lookup at once (SQLite) it is called here; on
        PostgreSQL's async pool the turn's grouped read is awaited from the loop, without the
        greenlet ``read`` would spawn; else it is awaited through ``read``. The same answer as
        ``HotPath.short_link`` through the chain. Measured: the handler's layers of coroutines
        cost a served short link about a microsecond of its 28 on SQLite."""
        ids = self.ids
        request_id = ids.begin(scope)
        started = time.perf_counter()
        status = 0
        try:
            try:
                code = scope["path"][3:]
                if self.read_now:
                    found = self.lookup(code)
                elif self.lookup_awaited is not None:
                    found = await self.lookup_awaited(code)
                else:
                    found = await self.services.db.read(self.lookup, code)
                location = live_location(found)
                if location is not None:  # ``short_answer``'s redirect, its headers built once
                    status = 302
                    await send({"type": "http.response.start", "status": 302, "headers": [
                        location, *_REDIRECT_HEADERS, _NO_LENGTH, (REQUEST_ID, request_id.encode())]})
                    await send({"type": "http.response.body", "body": b""})
                    return
                status, headers, body = short_answer(found)
            except Exception as exc:  # noqa: BLE001 - as ``HotPath.guard``
                status, headers, body = failure(exc, scope)
            headers = [*headers, (b"content-length", str(len(body)).encode()), (REQUEST_ID, request_id.encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            ids.finish(scope, SHORT_LINK, status, request_id, started)

    async def answer(self, scope: Scope, receive: Receive, send: Send, handler: Handler, label: str,
                     api: bool) -> None:
        ids = self.ids
        request_id = ids.begin(scope)
        started = time.perf_counter()
        status = 0
        try:
            origin = header(scope, b"origin") if api else None
            cors = None if origin is None else (origin, *await self.cors.allowed(origin))
            try:  # ``HotPath.guard``, without its coroutine
                status, headers, body = await handler(scope, receive)
            except Exception as exc:  # noqa: BLE001 - every error gets the documented body
                status, headers, body = failure(exc, scope)
            headers = [*headers, (b"content-length", str(len(body)).encode())]
            if cors is not None:
                headers += response_headers(scope["state"], *cors)
            headers.append((REQUEST_ID, request_id.encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            ids.finish(scope, label, status, request_id, started)


def live_location(found: tuple[str, int] | None) -> tuple[bytes, bytes] | None:
    """The ``location`` header of a short link's redirect; ``None`` when its session is unknown
    or has expired."""
    return None if found is None or found[1] <= time.time() else (b"location", found[0].encode())


def short_answer(found: tuple[str, int] | None) -> Answer:
    """A short link's answer: the redirect to the session's URL, else its 404 or 410 page."""
    location = live_location(found)
    if location is None:
        page = render_message(None, 404 if found is None else 410, "not_found" if found is None else "expired")
        return page.status_code, [h for h in page.raw_headers if h[0] != b"content-length"], bytes(page.body)
    return 302, [location, *_REDIRECT_HEADERS], b""


def failure(exc: Exception, scope: Scope) -> Answer:
    """The documented error answer of ``exc`` (a 500 is logged with the request id)."""
    status, body, headers = api_error(exc)
    if status == 500:
        log_unhandled(exc, scope.get("state", {}).get("request_id"))
    return status, [_JSON, *((k.encode(), v.encode()) for k, v in headers.items())], _encode(body)


_token_counters: dict[str, Any] = {}
_session_counters: dict[str, Any] = {}


def _count_token(grant_type: str) -> None:
    counter = _token_counters.get(grant_type)
    if counter is None:  # answered with tokens, so one of the few supported grant types
        counter = _token_counters[grant_type] = counters.tokens_issued.labels(grant_type)
    counter.inc()


def _intent_of(body: Any) -> str:
    return next((k for k in body if k in _INTENTS), "other") if isinstance(body, dict) else "other"


def _count_session(intent: str) -> None:
    counter = _session_counters.get(intent)
    if counter is None:
        counter = _session_counters[intent] = counters.sessions_created.labels(intent)
    counter.inc()


async def _method_not_allowed(scope: Scope, receive: Receive) -> Answer:
    raise HTTPException(405, "Method Not Allowed", headers={"allow": "POST"})


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return dict(scope["headers"])


def _text(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
