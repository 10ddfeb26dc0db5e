"""One request straight through an ASGI app, without a test client: on the test's own event loop,
so that a test sees what a loop turn does (group commits, the checkpointer's gate)."""

from __future__ import annotations

from typing import Any


async def asgi_request(app: Any, method: str, path: str, body: bytes = b"",
                       headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The messages ``app`` sends for one request (``http.response.start`` first)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    if body:
        raw += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": raw, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080), "scheme": "http",
             "http_version": "1.1", "root_path": ""}
    await app(scope, receive, send)
    return sent
