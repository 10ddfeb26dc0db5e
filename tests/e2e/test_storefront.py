"""The example storefront (examples/storefront), which uses the Python SDK, walked in a real
browser against a live service: log in, buy, land on the thank-you page, log out. The order is
shown as confirmed only because the service's signed webhook reached the storefront: the page
waits while the delivery is held back, forged deliveries are refused with 400 and confirm
nothing, and the genuine one, once let through, confirms the real order. Also: the storefront's
start without configuration."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headless_redirects.service.webhooks import new_endpoint
from tests.e2e.browser import chromium, screenshot_path
from tests.live import free_port, live_server, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "shopper@example.com", "window shopping"
FAST_WEBHOOKS = {"webhook_retry_schedule": "0.2,0.2", "webhook_poll_interval": 0.1, "tenant_cache_seconds": 0}
WAITING, CONFIRMED = "Waiting for the service to confirm", "confirmed by the service"


def _storefront() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storefront_app", ROOT / "examples" / "storefront" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Gate:
    """Sits between the service's webhook dispatcher and the storefront's /webhooks: forwards
    each delivery unchanged (body and signature headers), but holds a checkout's
    ``redirect_session.completed`` until the test releases it, so the test can look at the
    storefront before it arrives."""

    port: int
    target: str
    held: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    forwarded: list[int] = field(default_factory=list)  # the storefront's answers
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def wait_held(self, timeout: float = 15.0) -> tuple[bytes, dict[str, str]]:
        deadline = time.monotonic() + timeout
        while not self.held:
            assert time.monotonic() < deadline, "no redirect_session.completed delivery arrived"
            time.sleep(0.05)
        return self.held[0]


@contextmanager
def gate(target: str) -> Iterator[Gate]:
    g = Gate(free_port(), target)

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.startswith("webhook-") or k == "content-type"}
        event = json.loads(body)
        if event["type"] == "redirect_session.completed" and event["data"]["redirectSession"]["intent"] == "ecomCheckout":
            g.held.append((body, headers))
            deadline = time.monotonic() + 12  # within the dispatcher's 15 s timeout
            while not g.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as http:
            answer = await http.post(g.target, content=body, headers=headers)
        g.forwarded.append(answer.status_code)
        return Response(status_code=answer.status_code)

    with serve_in_thread(Starlette(routes=[Route("/hooks", forward, methods=["POST"])]), g.port):
        yield g


def _forge(body: bytes, headers: dict[str, str]) -> list[tuple[bytes, dict[str, str]]]:
    """Deliveries someone without the secret could make from a genuine one."""
    later = str(int(headers["webhook-timestamp"]) + 7)
    tampered = body.replace(b'"orderId":"', b'"orderId":"f')
    other_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    forged_id = "msg_forged"
    signed_elsewhere = Webhook(other_secret).sign(forged_id, datetime.now(UTC), body.decode())
    return [
        (tampered, headers),  # the genuine signature on an edited body
        (body, {"content-type": "application/json"}),  # no signature at all
        (body, {**headers, "webhook-id": forged_id, "webhook-timestamp": str(int(time.time())),
                "webhook-signature": signed_elsewhere}),  # signed with a secret of one's own
        (body, {**headers, "webhook-timestamp": later}),  # the genuine signature, another timestamp
    ]


def test_storefront_confirms_the_order_from_the_signed_webhook(tmp_path: Path) -> None:
    port = free_port()
    shop = f"http://127.0.0.1:{port}"
    with live_server(f"sqlite:///{tmp_path}/shop.db", redirect_uris=[f"{shop}/callback"],
                     allowed_domains=["127.0.0.1"], **FAST_WEBHOOKS) as live, gate(f"{shop}/webhooks") as hooks:
        # The endpoint exists before anything happens on the site, so every instance sees it.
        endpoint = new_endpoint(live.tenant.site_id, hooks.url, ["redirect_session.completed"])
        live.services.webhooks.add_endpoint(endpoint)
        live.services.members.create(live.tenant.site_id, EMAIL, PASSWORD)
        app = _storefront().create_app(live.url, live.tenant.client_id, shop, endpoint.secret)
        with serve_in_thread(app, port), chromium() as browser:
            page = browser.new_context().new_page()
            page.goto(shop + "/")
            assert page.get_by_test_id("status").inner_text() == "visitor"
            # one browser is one visitor: its tokens are kept across pages
            first = _cookie(page, "sf_tokens")
            page.reload()
            page.goto(shop + "/")
            assert first and _cookie(page, "sf_tokens") == first
            price = page.get_by_test_id("price").inner_text()

            page.get_by_test_id("login").click()
            page.wait_for_url(f"{live.url}/_api/oauth2/authorize**")
            page.get_by_test_id("email").fill(EMAIL)
            page.get_by_test_id("password").fill(PASSWORD)
            page.get_by_test_id("submit").click()
            page.wait_for_url(shop + "/")
            assert page.get_by_test_id("status").inner_text() == "member"

            page.get_by_test_id("buy").click()
            page.wait_for_url(f"{live.url}/flow/ecom-checkout**")
            # the checkout charges what the storefront showed
            assert page.get_by_test_id("total").inner_text() == f"{price} USD"
            page.get_by_test_id("complete").click()
            page.wait_for_url(f"{shop}/thank-you**")
            url_order_id = httpx.URL(page.url).params["orderId"]
            session_id = _cookie(page, "sf_checkout")
            assert session_id

            # The thank-you URL arrived, with an orderId; the webhook has not: the page waits.
            genuine_body, genuine_headers = hooks.wait_held()
            assert json.loads(genuine_body)["data"]["redirectSession"]["id"] == session_id
            assert WAITING in page.get_by_test_id("confirmation").inner_text()
            assert page.get_by_test_id("order-id").count() == 0

            # Forged deliveries are refused and confirm nothing.
            for body, headers in _forge(genuine_body, genuine_headers):
                refused = httpx.post(f"{shop}/webhooks", content=body, headers=headers)
                assert refused.status_code == 400, (headers, refused.text)
            page.reload()
            assert WAITING in page.get_by_test_id("confirmation").inner_text()

            # The genuine delivery goes through; the page (refreshing itself) shows the order confirmed.
            hooks.release.set()
            page.get_by_text(CONFIRMED).wait_for(timeout=15_000)
            assert hooks.forwarded and set(hooks.forwarded) == {204}  # the login's completion, then the order's
            confirmed_id = page.get_by_test_id("order-id").inner_text()
            assert confirmed_id == url_order_id
            order = live.services.orders.get(confirmed_id)
            assert order is not None and order.intent == "ecomCheckout" and order.member_id is not None
            page.screenshot(path=str(screenshot_path("storefront-confirmed")))

            # A repeated delivery (the same webhook-id) is accepted and changes nothing.
            again = httpx.post(f"{shop}/webhooks", content=genuine_body, headers=genuine_headers)
            assert again.status_code == 204
            # An edited address bar does not change what was confirmed.
            page.goto(f"{shop}/thank-you?orderId=00000000-0000-4000-8000-000000000000")
            assert page.get_by_test_id("order-id").inner_text() == confirmed_id
            assert page.get_by_test_id("url-mismatch").is_visible()

            page.goto(shop + "/")
            page.get_by_test_id("logout").click()
            page.wait_for_url(f"{shop}/?wixMemberLoggedIn=false")
            assert page.get_by_test_id("status").inner_text() == "visitor"
            browser.close()


def _cookie(page: Any, name: str) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == name), None)


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "examples" / "storefront"),
                           "app:app", "--port", str(free_port())],
                          env=env, capture_output=True, text=True, timeout=60)


def test_storefront_without_a_client_id_refuses_to_start_and_says_why() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HR_CLIENT_ID", "HR_WEBHOOK_SECRET")}
    done = _start(env)
    assert done.returncode == 2
    assert "HR_CLIENT_ID is not set" in done.stderr and "HR_WEBHOOK_SECRET is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_storefront_without_a_webhook_secret_refuses_to_start_and_says_how_to_get_one() -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "HR_WEBHOOK_SECRET"},
           "HR_CLIENT_ID": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"}
    done = _start(env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "HR_CLIENT_ID" not in done.stderr.split("HR_WEBHOOK_SECRET")[0]
    assert "HR_WEBHOOK_SECRET is not set" in done.stderr and "headless-redirects webhooks add" in done.stderr
    done = _start({**env, "HR_WEBHOOK_SECRET": "hunter2"})
    assert done.returncode == 2 and "HR_WEBHOOK_SECRET is not a whsec_ secret" in done.stderr
