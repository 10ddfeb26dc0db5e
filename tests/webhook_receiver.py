"""A real webhook receiver for tests: an HTTP server that verifies every delivery with the
`standardwebhooks` library, exactly as a client backend would, and records what it got."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.live import free_port, serve_in_thread


@dataclass
class Receiver:
    port: int
    secret: str = ""
    fail_next: int = 0  # answer 500 to this many deliveries first
    status_after_failures: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)  # verified deliveries, in arrival order
    refused: list[str] = field(default_factory=list)  # deliveries that failed verification
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.received if event_type is None or r["type"] == event_type]

    def wait_for(self, count: int, event_type: str | None = None, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events(event_type)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s for {count} {event_type or 'events'}; got "
                                     f"{[(r['type'], r['status']) for r in self.received]}")
            time.sleep(0.05)
        return self.events(event_type)


@contextmanager
def receiver() -> Iterator[Receiver]:
    hook = Receiver(free_port())

    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items()}
        try:
            payload = Webhook(hook.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            with hook.lock:
                hook.refused.append(str(exc))
            return Response(status_code=400)
        with hook.lock:
            status = 500 if hook.fail_next > 0 else hook.status_after_failures
            hook.fail_next = max(0, hook.fail_next - 1)
            hook.received.append({"id": headers["webhook-id"], "type": payload["type"], "data": payload["data"],
                                  "timestamp": payload["timestamp"], "status": status, "raw": json.loads(body)})
        return Response(status_code=status)

    app = Starlette(routes=[Route("/hooks", receive, methods=["POST"])])
    with serve_in_thread(app, hook.port):
        yield hook
