"""The example storefront (examples/storefront), which uses the Python SDK, walked in a real
browser against a live service: log in, buy, land on the thank-you page with a real orderId,
log out; and the storefront's start without configuration."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.e2e.browser import chromium
from tests.live import free_port, live_server, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "shopper@example.com", "window shopping"


def _storefront() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storefront_app", ROOT / "examples" / "storefront" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_storefront_login_buy_logout(tmp_path: Path) -> None:
    port = free_port()
    shop = f"http://127.0.0.1:{port}"
    with live_server(f"sqlite:///{tmp_path}/shop.db", redirect_uris=[f"{shop}/callback"],
                     allowed_domains=["127.0.0.1"]) as live:
        live.services.members.create(live.tenant.site_id, EMAIL, PASSWORD)
        app = _storefront().create_app(live.url, live.tenant.client_id, shop)
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
            order_id = page.get_by_test_id("order-id").inner_text()
            order = live.services.orders.get(order_id)
            assert order is not None and order.intent == "ecomCheckout" and order.member_id is not None

            page.goto(shop + "/")
            page.get_by_test_id("logout").click()
            page.wait_for_url(f"{shop}/?wixMemberLoggedIn=false")
            assert page.get_by_test_id("status").inner_text() == "visitor"
            browser.close()


def _cookie(page: Any, name: str) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == name), None)


def test_storefront_without_a_client_id_refuses_to_start_and_says_why() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HR_CLIENT_ID"}
    done = subprocess.run([sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "examples" / "storefront"),
                           "app:app", "--port", str(free_port())],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "HR_CLIENT_ID is not set" in done.stderr and "Traceback" not in done.stderr
