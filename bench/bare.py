"""The bare ASGI baseline of SPEC §7: no framework. GET answers a fixed 302; POST echoes the
body it was sent. It is the Python ceiling the service is measured against."""

from __future__ import annotations

from typing import Any

_REDIRECT = [(b"location", b"https://example.com/flow?redirectSessionId=0"), (b"content-length", b"0")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":
        await send({"type": "http.response.start", "status": 302, "headers": _REDIRECT})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
