"""The hosted flows in a real browser (Playwright + Debian's Chromium) against a live server,
ending on a local client site that records the exact query of every callback it receives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import chromium, screenshot_path
from tests.e2e.clientsite import ClientSite, client_site
from tests.e2e.test_browser_identity import COMPAT, create_session, log_in, sdk
from tests.live import Live, live_server

ROOT = Path(__file__).resolve().parents[2]
GUID = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"
EMAIL, PASSWORD = "grace@example.com", "compiler cobol"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, ClientSite, Browser]]:
    assert (COMPAT / "node_modules" / "@wix" / "sdk").is_dir(), "run `npm ci --prefix tests/compat`"
    db = tmp_path_factory.mktemp("flows") / "flows.db"
    with client_site() as site, live_server(f"sqlite:///{db}", redirect_uris=[f"{site.url}/callback"],
                                            allowed_domains=["127.0.0.1"]) as live, chromium() as browser:
        live.services.members.create(live.tenant.site_id, EMAIL, PASSWORD)
        yield live, site, browser


def callbacks(site: ClientSite) -> dict[str, str]:
    return {"postFlowUrl": f"{site.url}/after?from=hr", "thankYouPageUrl": f"{site.url}/thanks?from=hr",
            "cartPageUrl": f"{site.url}/cart", "planListUrl": f"{site.url}/plans",
            "bookingsServiceListUrl": f"{site.url}/services"}


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 900, "height": 760}).new_page()
    page.goto(url)
    return page


def landed(page: Page, site: ClientSite, path: str) -> dict[str, list[str]]:
    page.wait_for_url(f"{site.url}{path}**")
    query = parse_qs(urlsplit(page.url).query)
    assert site.hits(path)[-1]["query"] == {k: v[0] for k, v in query.items()}
    return query


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(screenshot_path(name)))


@pytest.mark.parametrize(("intent", "params", "expected"), [
    ("ecomCheckout", {"checkoutId": GUID}, {"orderId"}),
    ("eventsCheckout", {"reservationId": GUID, "eventSlug": "jazz-night"}, {"orderNumber", "eventId"}),
    ("paidPlansCheckout", {"planId": GUID}, {"planOrderId"}),
])
def test_checkout_created_through_the_official_sdk(env: tuple[Live, ClientSite, Browser], intent: str,
                                                   params: dict[str, str], expected: set[str]) -> None:
    live, site, browser = env
    session = sdk(live, "create", body={intent: params, "callbacks": callbacks(site)})["session"]
    page = open_page(browser, session["fullUrl"])
    shot(page, {"ecomCheckout": "checkout-ecom", "eventsCheckout": "checkout-events",
                "paidPlansCheckout": "checkout-plans"}[intent])
    page.get_by_test_id("complete").click()
    query = landed(page, site, "/thanks")
    assert set(query) == {"from", "wixMemberLoggedIn", *expected} and query["wixMemberLoggedIn"] == ["false"]
    stored = live.services.store.sessions.get(session["_id"])
    assert stored is not None and stored.state == "COMPLETED"
    page.context.close()


@pytest.mark.parametrize(("intent", "params", "name"), [
    ("ecomOrderPaymentRequest", {"paymentRequestId": GUID}, "checkout-payment-request"),
    ("bookingsCheckout", {"timezone": "America/Santiago", "slotAvailability": {"slot": {
        "serviceId": GUID, "startDate": "2026-07-01T10:00:00+09:00", "endDate": "2026-07-01T11:00:00+09:00",
        "resource": {"name": "Dana"}, "location": {"name": "Studio A"}}}}, "checkout-bookings"),
])
def test_other_checkouts(env: tuple[Live, ClientSite, Browser], intent: str, params: dict[str, Any],
                         name: str) -> None:
    live, site, browser = env
    session = create_session(live, {intent: params, "callbacks": callbacks(site)})
    page = open_page(browser, session["fullUrl"])
    if intent == "bookingsCheckout":
        assert "10:00" in page.get_by_test_id("detail-when").inner_text()  # local time, offset ignored
    shot(page, name)
    page.get_by_test_id("complete").click()
    assert set(landed(page, site, "/thanks")) == {"from", "orderId", "wixMemberLoggedIn"}
    page.context.close()


def test_product_page_to_cart(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"storesProduct": {"productSlug": "ceramic-mug"}, "callbacks": callbacks(site)})
    page = open_page(browser, session["fullUrl"])
    shot(page, "product")
    page.get_by_test_id("complete").click()
    assert landed(page, site, "/cart") == {"wixMemberLoggedIn": ["false"]}
    page.context.close()


def test_booking_page_to_bookings_checkout_to_thank_you(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"bookingsBook": {"resourceId": GUID}, "callbacks": callbacks(site)})
    page = open_page(browser, session["fullUrl"])
    shot(page, "booking")
    page.get_by_test_id("option").nth(2).check()
    page.get_by_test_id("complete").click()
    page.wait_for_url(f"{live.url}/flow/bookings-checkout**")
    page.get_by_test_id("complete").click()
    assert set(landed(page, site, "/thanks")) == {"from", "orderId", "wixMemberLoggedIn"}
    page.context.close()


def test_hosted_thank_you_page_then_post_flow_url(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"ecomCheckout": {"checkoutId": GUID},
                                    "callbacks": {"postFlowUrl": f"{site.url}/after?from=hr"}})
    page = open_page(browser, session["fullUrl"])
    page.get_by_test_id("complete").click()
    page.wait_for_url(f"{live.url}/flow/thank-you**")
    assert page.get_by_test_id("order-number").inner_text().isdigit()
    shot(page, "thank-you")
    page.get_by_test_id("continue").click()
    assert landed(page, site, "/after") == {"from": ["hr"], "wixMemberLoggedIn": ["false"]}
    page.context.close()


def test_abandon_goes_to_post_flow_url(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"ecomCheckout": {"checkoutId": GUID}, "callbacks": callbacks(site)})
    page = open_page(browser, session["fullUrl"])
    page.get_by_test_id("cancel").click()
    assert landed(page, site, "/after") == {"from": ["hr"], "wixMemberLoggedIn": ["false"]}
    assert live.services.store.sessions.get(session["id"]).state == "ABANDONED"  # type: ignore[union-attr]
    page.context.close()


def test_logging_in_during_a_checkout(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"ecomCheckout": {"checkoutId": GUID}, "callbacks": callbacks(site)})
    page = open_page(browser, session["fullUrl"])
    page.get_by_test_id("login").click()
    log_in(page, EMAIL, PASSWORD)
    page.wait_for_url(f"{live.url}/flow/ecom-checkout**")
    assert EMAIL in page.get_by_test_id("member").inner_text()
    page.get_by_test_id("complete").click()
    assert landed(page, site, "/thanks")["wixMemberLoggedIn"] == ["true"]
    page.context.close()


def test_change_plan_round_trip(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    first = sdk(live, "create", body={"paidPlansCheckout": {"planId": GUID}, "callbacks": callbacks(site)})["session"]
    page = open_page(browser, first["fullUrl"])
    page.get_by_test_id("back").click()
    query = landed(page, site, "/plans")
    assert set(query) == {"planIds", "checkoutData", "wixMemberLoggedIn"} and query["planIds"] == [GUID]
    # the client site's plan list sends the visitor back with another plan and the checkoutData
    other = "5d4b1b4a-7f3c-4b8e-9a41-2f6a0c9e1d24"
    second = sdk(live, "create", body={"paidPlansCheckout": {"planId": other, "checkoutData": query["checkoutData"][0]},
                                       "callbacks": callbacks(site)})["session"]
    page.goto(second["fullUrl"])
    assert "Changed from" in page.get_by_test_id("note").inner_text()
    page.get_by_test_id("complete").click()
    assert "planOrderId" in landed(page, site, "/thanks")
    page.context.close()


def test_reopening_a_completed_url_says_already_used(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"ecomCheckout": {"checkoutId": GUID}, "callbacks": callbacks(site)})
    page = open_page(browser, session["fullUrl"])
    page.get_by_test_id("complete").click()
    landed(page, site, "/thanks")
    page.goto(session["fullUrl"])
    assert "already used" in page.get_by_test_id("message-title").inner_text()
    shot(page, "already-used")
    page.context.close()


def test_editing_the_full_url_changes_nothing(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"ecomCheckout": {"checkoutId": GUID}, "callbacks": callbacks(site)})
    evil = httpx.URL(session["fullUrl"]).copy_merge_params({
        "checkoutId": "5d4b1b4a-7f3c-4b8e-9a41-2f6a0c9e1d22", "thankYouPageUrl": "http://localhost:1/evil",
        "postFlowUrl": "http://localhost:1/evil"})
    page = open_page(browser, str(evil))
    page.get_by_test_id("complete").click()
    query = landed(page, site, "/thanks")
    order = live.services.orders.get(query["orderId"][0])
    assert order is not None and order.session_id == session["id"]
    page.context.close()
