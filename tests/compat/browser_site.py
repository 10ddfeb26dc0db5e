"""Helpers for running the official SDK in a browser page on another origin: the custom-login example
bundled with esbuild, a client site that serves it and records every hit, a live server that records
every request it sees (preflights included), and a real SMTP server that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import html
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from headless_redirects.service.tenancy import create_tenant
from headless_redirects.settings import Settings
from headless_redirects.web.app import create_app
from headless_redirects.web.services import Services
from tests.live import Live, free_port, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "tests" / "compat"
EXAMPLE = ROOT / "examples" / "custom-login"


# esbuild's JavaScript API: its bin/esbuild is a JS shim or the native binary depending on whether
# npm ran its install script, the API works either way.
_BUILD = """
const [entry, outfile, nodePath] = process.argv.slice(1);
const { build } = await import('esbuild');
await build({ entryPoints: [entry], outfile, nodePaths: [nodePath], bundle: true, format: 'esm',
              platform: 'browser', logLevel: 'warning' });
"""


def cli(live: Live, *args: str) -> str:
    """Run ``headless-redirects ARGS`` on the live server's database; its output."""
    done = subprocess.run([sys.executable, "-m", "headless_redirects.cli", *args, "--database-url",
                           live.services.settings.database_url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def bundle_example(out_dir: Path) -> Path:
    """esbuild ``examples/custom-login/main.js`` (resolving packages from tests/compat/node_modules)
    into ``out_dir/bundle.js``, the name index.html loads."""
    node = shutil.which("node")
    if node is None or not (COMPAT / "node_modules" / "esbuild").is_dir() or \
            not (COMPAT / "node_modules" / "@wix" / "members").is_dir():
        pytest.fail("the browser compat tests need node and `npm ci --prefix tests/compat` (the README's test command)")
    out = out_dir / "bundle.js"
    done = subprocess.run(
        [node, "--input-type=module", "-e", _BUILD, str(EXAMPLE / "main.js"), str(out), str(COMPAT / "node_modules")],
        cwd=COMPAT, env={"PATH": str(Path(node).parent)}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0 and out.is_file(), done.stderr
    return out


@dataclass
class Hit:
    method: str
    path: str
    query: str
    origin: str | None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # the response's, names in lower case

    @property
    def allow_origin(self) -> str | None:
        return self.headers.get("access-control-allow-origin")


class Recorder:
    """Pure-ASGI middleware that notes every HTTP request, its status and its response headers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hits: list[Hit] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = dict(scope["headers"]).get(b"origin")
        hit = Hit(scope["method"], scope["path"], scope["query_string"].decode(),
                  origin.decode() if origin else None)
        self.hits.append(hit)

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                hit.status = message["status"]
                hit.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            await send(message)

        await self.app(scope, receive, noting)

    def from_origin(self, origin: str) -> list[Hit]:
        return [h for h in self.hits if h.origin == origin]


@dataclass
class RecordedLive(Live):
    recorder: Recorder


@contextmanager
def recorded_live_server(database_url: str, *, redirect_uris: list[str], allowed_domains: list[str],
                         **settings: Any) -> Iterator[RecordedLive]:
    """tests.live.live_server with a Recorder in front of the app (what did the server see?)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database_url=database_url, public_url=url, **settings))
    services: Services = app.services  # type: ignore[attr-defined]
    tenant = create_tenant(services.store, name="Browser shop", public_url=None,
                           allowed_domains=allowed_domains, redirect_uris=redirect_uris)
    recorder = Recorder(app)
    with serve_in_thread(recorder, port):
        try:
            yield RecordedLive(url, services, tenant, recorder)
        finally:
            services.db.dispose()


@dataclass
class ClientSite:
    """Serves the example page and its bundle on one port, reached as http://localhost:<port> (an
    allowed origin) or http://127.0.0.1:<port> (another origin); records every hit."""

    port: int
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def other_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def page(self) -> str:
        return f"{self.url}/index.html"

    def hits(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == path]


@contextmanager
def client_site(bundle: Path) -> Iterator[ClientSite]:
    site = ClientSite(free_port())

    async def serve(request: Request) -> Response:
        site.received.append({"path": request.url.path, "query": dict(request.query_params),
                              "host": request.headers.get("host")})
        if request.url.path == "/index.html":
            return FileResponse(EXAMPLE / "index.html", media_type="text/html")
        if request.url.path == "/bundle.js":
            return FileResponse(bundle, media_type="text/javascript")
        return PlainTextResponse("not found", status_code=404)

    app = Starlette(routes=[Route("/{path:path}", serve)])
    with serve_in_thread(app, site.port):
        yield site


class Inbox:
    """An aiosmtpd handler that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]  # policy.default: EmailMessage
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, *, after: int = 0, timeout: float = 10.0) -> EmailMessage:
        """The first message for ``to`` beyond the ``after`` already seen, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                mine = [message for rcpt, message in self.messages if to in rcpt]
                if len(mine) > after:
                    return mine[after]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no email for {to} within {timeout}s ({len(self.messages)} for others)")
                self._arrived.wait(left)

    def count(self, to: str) -> int:
        return len([m for rcpt, m in self.messages if to in rcpt])


def text_of(message: EmailMessage) -> str:
    """Every text part of the message, decoded (plain first, then HTML unescaped)."""
    parts = [p.get_content() for p in message.walk() if p.get_content_type() == "text/plain"]
    parts += [html.unescape(p.get_content()) for p in message.walk() if p.get_content_type() == "text/html"]
    return "\n".join(parts)


def links_in(message: EmailMessage, base: str) -> list[str]:
    return re.findall(re.escape(base) + r"/[^\s\"'<>]+", text_of(message))


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
