"""A tiny client site for end-to-end tests: it records every request it receives and serves a
page that frames a URL and records the messages the frame posts (the SDK's silent login)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.live import free_port, serve_in_thread

_FRAME_PAGE = """<!doctype html><html><body>
<p>client site</p>
<script>
window.__messages = [];
window.addEventListener('message', function (event) {
  window.__messages.push({origin: event.origin, data: event.data});
});
</script>
<iframe id="auth" src="%s" width="400" height="200"></iframe>
</body></html>"""


@dataclass
class ClientSite:
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hits(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == path]


@contextmanager
def client_site() -> Iterator[ClientSite]:
    site = ClientSite(free_port())

    async def record(request: Request) -> HTMLResponse:
        site.received.append({"path": request.url.path, "query": dict(request.query_params),
                              "host": request.headers.get("host")})
        return HTMLResponse(f"<!doctype html><title>client</title><p id=path>{html.escape(request.url.path)}</p>")

    async def frame(request: Request) -> HTMLResponse:
        return HTMLResponse(_FRAME_PAGE % html.escape(request.query_params["src"], quote=True))

    app = Starlette(routes=[Route("/frame", frame), Route("/{path:path}", record)])
    with serve_in_thread(app, site.port):
        yield site
