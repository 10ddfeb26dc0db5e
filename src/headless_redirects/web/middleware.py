"""Pure-ASGI middleware."""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.entropy import random_bytes
from ..logs import ACCESS_LOGGER, JsonFormatter, LineStream, access_lines
from .metrics import Metrics, route_label

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "TrustedProxies", "access_line", "new_request_id"]

REQUEST_ID_HEADER = "x-wix-request-id"
_HEADER_BYTES = REQUEST_ID_HEADER.encode()
# An id a proxy hands on is used as it is when it is a short run of visible ASCII (it goes into a
# response header and the logs).
_GOOD_ID = re.compile(rb"[!-~]{1,128}")
log = logging.getLogger(ACCESS_LOGGER)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network



def new_request_id() -> str:
    """128 random bits as 32 hex digits (``domain.entropy``: no system call per id)."""
    return random_bytes(16).hex()


class TrustedProxies:
    """Which peers are proxies of ours, and what they tell about the client.

    Only a trusted peer's ``X-Forwarded-For`` is read, and only as far as it was written by trusted
    proxies: the client is the right-most address that is not one of them (anything left of it
    was written by the client and can be forged).
    """

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)
        self._known: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        known = self._known.get(address)
        if known is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                known = False
            else:
                known = any(ip in net for net in self.networks)
            if len(self._known) < 4096:
                self._known[address] = known
        return known

    def client(self, forwarded_for: str) -> str | None:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else None


class RequestIdMiddleware:
    """Give every request an id, answer it in ``x-wix-request-id`` on every response, count it in
    the metrics, and (when enabled) write one structured access-log line carrying the id.

    Behind trusted proxies the client address (``scope["client"]``), the scheme and the request
    id come from ``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``x-request-id``.
    """

    def __init__(self, app: ASGIApp, *, access_log: bool = False, metrics: Metrics | None = None,
                 trusted_proxies: TrustedProxies | None = None) -> None:
        self.app = app
        self.access_log = access_log
        self.metrics = metrics
        self.proxies = trusted_proxies or TrustedProxies(())
        self.behind_proxies = bool(self.proxies)  # its networks are fixed: asked once, not a request

    def _from_proxy(self, scope: Scope) -> str | None:
        forwarded_for = proto = request_id = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for = value if forwarded_for is None else forwarded_for + b"," + value
            elif name == b"x-forwarded-proto":
                proto = value.strip().lower()
            elif name == b"x-request-id" and _GOOD_ID.fullmatch(value):
                request_id = value.decode()
        if forwarded_for is not None:
            client = self.proxies.client(forwarded_for.decode("latin-1"))
            if client is not None:
                scope["client"] = (client, 0)
        if proto in (b"http", b"https"):
            scope["scheme"] = proto.decode()
        return request_id

    def begin(self, scope: Scope) -> str:
        """The request's id (a trusted proxy's, else a new one), kept in ``scope["state"]``."""
        request_id = None
        peer = scope.get("client")
        if self.behind_proxies and peer and self.proxies.trusts(peer[0]):
            request_id = self._from_proxy(scope)
        request_id = request_id or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        return request_id

    def finish(self, scope: Scope, label: str, status: int, request_id: str, started: float) -> None:
        """Count the request (``label``: its route template) and write its access line."""
        seconds = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe_route(scope["method"], label, status, seconds)
        if self.access_log:
            route = getattr(scope.get("route"), "path", None) or label
            client = scope.get("client")
            # Milliseconds to the microsecond (``round(x, 3)`` costs more than the rest of this).
            access_line(scope["method"], route, status, request_id, int(seconds * 1_000_000 + 0.5) / 1000,
                        client[0] if client else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.begin(scope)
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (_HEADER_BYTES, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.finish(scope, route_label(scope["path"]), status, request_id, started)


def access_line(method: str, route: str, status: int, request_id: str, duration_ms: float,
                client_ip: str | None) -> None:
    """Log the access line of a request.

    When its one destination is a stream through our JSON formatter (``logs.configure``, as
    ``serve`` sets logging up), the line is written to that stream directly: the same bytes the
    formatter writes, without building a ``LogRecord`` (measured: the logging call cost 10-15 µs
    of a 60 µs short link), and through ``logs.LineStream`` together with the other lines of the
    loop turn, encoded with them at the end of the turn (``logs.access_lines``). Any other set-up
    (another format, handlers of a test, filters) gets the ordinary logging call."""
    global _batch_handler
    handler: logging.StreamHandler | None = _batch_handler  # type: ignore[type-arg]
    if _batch_handler is None or not _batch_handler.holds_lines():
        handler = _json_stream_handler()
        _batch_handler = handler if type(handler) is LineStream else None
    if handler is None:
        log.info(
            "%s %s %s", method, route, status,
            extra={"request_id": request_id, "method": method, "route": route, "status": status,
                   "duration_ms": duration_ms, "client_ip": client_ip},
        )
        return
    entry = (time.time(), method, route, status, request_id, duration_ms, client_ip)
    if type(handler) is LineStream and handler.terminator == "\n":
        handler.add_access(entry)  # with the other lines of this loop turn
        return
    handler.acquire()
    try:
        handler.stream.write(access_lines([entry])[:-1] + handler.terminator)
        handler.flush()
    except Exception:  # noqa: BLE001, S110 - as logging does: a failed log line never fails the request
        pass
    finally:
        handler.release()


# The handler the access lines still held (to be written together at the end of the loop turn)
# went to: the turn's other access lines go there too, without looking for it again (measured: the
# look cost ~1 µs of a served short link). A change of logging's set-up reaches the next batch.
_batch_handler: LineStream | None = None


def _json_stream_handler() -> logging.StreamHandler | None:  # type: ignore[type-arg]
    """The one handler the access line reaches, if it is a plain stream handler with our JSON
    formatter and nothing (filters, levels) could change or drop the line on the way."""
    if log.disabled or log.filters or not log.isEnabledFor(logging.INFO):
        return None
    found: logging.Handler | None = None
    logger: logging.Logger | None = log
    while logger is not None:
        for handler in logger.handlers:
            if found is not None:
                return None
            found = handler
        logger = logger.parent if logger.propagate else None
    if not isinstance(found, logging.StreamHandler) or type(found) not in (logging.StreamHandler, LineStream):
        return None
    if type(found.formatter) is not JsonFormatter or found.filters or found.level > logging.INFO:
        return None
    return found
