"""Pure-ASGI middleware."""

from __future__ import annotations

import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import Metrics

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware"]

REQUEST_ID_HEADER = "x-wix-request-id"
_HEADER_BYTES = REQUEST_ID_HEADER.encode()
log = logging.getLogger("headless_redirects.access")


class RequestIdMiddleware:
    """Give every request an id, answer it in ``x-wix-request-id`` on every response, count it in
    the metrics, and (when enabled) write one structured access-log line carrying the id."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False, metrics: Metrics | None = None) -> None:
        self.app = app
        self.access_log = access_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
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
            if self.metrics is not None:
                self.metrics.observe(scope["method"], scope["path"], status, time.perf_counter() - started)
            if self.access_log:
                log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )
