"""The hosted flow pages in process: the exact outcome of every intent, the hosted thank-you
page, leaving, back links and the change-plan round trip, logging in during a checkout,
replays, tampering, page settings and pluggable providers."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from headless_redirects.domain.outcomes import PlacedOrder
from headless_redirects.flows import Buyer, FlowProvider, FlowRequest, FlowView, LineItem
from headless_redirects.storage.tables import redirect_sessions, sites
from tests.conftest import GUID, World
from tests.flows import CALLBACKS, INTENTS, submit
from tests.identity import EMAIL, PASSWORD, path_of, query_of, submit_login


def _open(w: World, intent: str, callbacks: dict[str, str] | None = None, **extra: object) -> tuple[str, str]:
    r = w.create({intent: INTENTS[intent], "callbacks": CALLBACKS if callbacks is None else callbacks, **extra})
    assert r.status_code == 200, r.text
    url = path_of(r.json()["redirectSession"]["fullUrl"])
    page = w.client.get(url)
    assert page.status_code == 200, page.text
    return url, page.text


@pytest.mark.parametrize(("intent", "keys"), [
    ("ecomCheckout", {"orderId"}),
    ("eventsCheckout", {"orderNumber", "eventId"}),
    ("paidPlansCheckout", {"planOrderId"}),
    ("ecomOrderPaymentRequest", {"orderId"}),
    ("bookingsCheckout", {"orderId"}),
])
def test_completing_a_checkout_lands_on_the_thank_you_url_with_exactly_its_parameters(
        world: World, intent: str, keys: set[str]) -> None:
    url, page = _open(world, intent)
    for testid in ("complete", "cancel", "login"):
        assert f'data-testid="{testid}"' in page
    r = submit(world.client, page, url.split("?")[0])
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("https://shop.example.com/thanks?src=hr&")
    q = query_of(location)
    assert set(q) == {"src", "wixMemberLoggedIn", *keys} and q["wixMemberLoggedIn"] == "false"
    order = world.services.orders.get(q["orderId"] if "orderId" in q else q.get("planOrderId", ""))
    if intent == "eventsCheckout":
        session_id = url.split("redirectSessionId=")[1].split("&")[0]
        order = world.services.orders.for_session(session_id)
        assert order is not None and order.number == q["orderNumber"] and order.event_id == q["eventId"]
    assert order is not None and order.intent == intent


def test_product_page_adds_to_cart(world: World) -> None:
    url, page = _open(world, "storesProduct")
    r = submit(world.client, page, url.split("?")[0])
    assert r.headers["location"] == "https://shop.example.com/cart?wixMemberLoggedIn=false"


def test_booking_page_leads_on_to_a_bookings_checkout(world: World) -> None:
    url, page = _open(world, "bookingsBook")
    assert page.count('data-testid="option"') == 6
    r = submit(world.client, page, url.split("?")[0])
    checkout = world.client.get(path_of(r.headers["location"]))
    assert checkout.status_code == 200 and "/flow/bookings-checkout" in r.headers["location"]
    done = submit(world.client, checkout.text, "/flow/bookings-checkout")
    assert set(query_of(done.headers["location"])) == {"src", "orderId", "wixMemberLoggedIn"}


def test_bookings_checkout_shows_the_slot_in_local_time(world: World) -> None:
    _, page = _open(world, "bookingsCheckout")
    # 02:30 does not exist in Berlin on 2026-03-29; the offset "Z" is ignored with a timezone
    assert "Mar 29, 2026, 3:30:00" in page and "Europe/Berlin" in page and "Dana" in page


def test_no_thank_you_url_goes_to_the_hosted_thank_you_page(world: World) -> None:
    url, page = _open(world, "ecomCheckout", {"postFlowUrl": "https://shop.example.com/after?src=hr"})
    r = submit(world.client, page, url.split("?")[0])
    thanks = world.client.get(r.headers["location"])
    assert thanks.status_code == 200 and 'data-testid="order-number"' in thanks.text
    assert 'href="https://shop.example.com/after?src=hr&amp;wixMemberLoggedIn=false" data-testid="continue"' in thanks.text
    assert TestClient(world.client.app).get(r.headers["location"]).status_code == 403  # another browser


def test_cancel_goes_to_post_flow_url_and_orders_nothing(world: World) -> None:
    url, page = _open(world, "ecomCheckout")
    r = submit(world.client, page, url.split("?")[0], action="cancel")
    assert r.headers["location"] == "https://shop.example.com/after?src=hr&wixMemberLoggedIn=false"
    session_id = url.split("redirectSessionId=")[1].split("&")[0]
    assert world.services.orders.for_session(session_id) is None
    assert world.services.store.sessions.get(session_id).state == "ABANDONED"  # type: ignore[union-attr]


@pytest.mark.parametrize(("intent", "target"), [
    ("ecomCheckout", "https://shop.example.com/cart?wixMemberLoggedIn=false"),
    ("bookingsCheckout", "https://shop.example.com/services?wixMemberLoggedIn=false"),
])
def test_back_links(world: World, intent: str, target: str) -> None:
    url, page = _open(world, intent)
    assert submit(world.client, page, url.split("?")[0], action="back").headers["location"] == target


def test_change_plan_round_trip(world: World) -> None:
    url, page = _open(world, "paidPlansCheckout")
    r = submit(world.client, page, url.split("?")[0], action="back")
    q = query_of(r.headers["location"])
    assert r.headers["location"].startswith("https://shop.example.com/plans?view=grid&planIds=")
    assert set(q) == {"view", "planIds", "checkoutData", "wixMemberLoggedIn"} and q["planIds"] == GUID
    other_plan = "5d4b1b4a-7f3c-4b8e-9a41-2f6a0c9e1d24"
    r = world.create({"paidPlansCheckout": {"planId": other_plan, "checkoutData": q["checkoutData"]},
                      "callbacks": CALLBACKS})
    resumed = world.client.get(path_of(r.json()["redirectSession"]["fullUrl"]))
    assert 'data-testid="note"' in resumed.text and "Changed from" in resumed.text
    done = submit(world.client, resumed.text, "/flow/plans-checkout")
    assert "planOrderId" in query_of(done.headers["location"])


def test_logging_in_during_a_checkout(world: World) -> None:
    world.services.members.create(world.tenant.site_id, EMAIL, PASSWORD)
    url, page = _open(world, "ecomCheckout")
    r = submit(world.client, page, url.split("?")[0], action="login")
    login_page = world.client.get(r.headers["location"])
    back = submit_login(world.client, login_page.text, action="/flow/sign-in")
    assert back.status_code == 303 and back.headers["location"].startswith("/flow/ecom-checkout?")
    checkout = world.client.get(back.headers["location"])
    assert EMAIL in checkout.text and 'data-testid="login"' not in checkout.text
    done = submit(world.client, checkout.text, "/flow/ecom-checkout")
    assert query_of(done.headers["location"])["wixMemberLoggedIn"] == "true"
    order = world.services.orders.get(query_of(done.headers["location"])["orderId"])
    assert order is not None and order.member_id is not None


def test_login_url_is_used_when_given(world: World) -> None:
    url, page = _open(world, "ecomCheckout", {**CALLBACKS, "loginUrl": "https://shop.example.com/login?next=co"})
    r = submit(world.client, page, url.split("?")[0], action="login")
    assert r.headers["location"] == "https://shop.example.com/login?next=co&wixMemberLoggedIn=false"


def test_completed_url_cannot_be_replayed(world: World) -> None:
    url, page = _open(world, "ecomCheckout")
    first = submit(world.client, page, url.split("?")[0])
    assert first.status_code == 303
    assert world.client.get(url).status_code == 409
    again = submit(world.client, page, url.split("?")[0])  # the same form posted twice
    assert again.status_code == 409 and len({first.headers["location"]}) == 1


def test_editing_the_url_changes_nothing(world: World) -> None:
    url, page = _open(world, "ecomCheckout")
    tampered = url.replace(GUID, "5d4b1b4a-7f3c-4b8e-9a41-2f6a0c9e1d22") + \
        "&thankYouPageUrl=https%3A%2F%2Fevil.example.com%2F&postFlowUrl=https%3A%2F%2Fevil.example.com%2F"
    tampered_page = world.client.get(tampered).text

    def total(html: str) -> str:
        return html.split('data-testid="total">')[1].split("<")[0]

    assert total(tampered_page) == total(page)  # the cart comes from the stored session, not the URL
    r = submit(world.client, tampered_page, "/flow/ecom-checkout")
    assert r.headers["location"].startswith("https://shop.example.com/thanks?src=hr&orderId=")
    order = world.services.orders.get(query_of(r.headers["location"])["orderId"])
    assert order is not None and order.session_id in url


def test_custom_page_settings_show_in_the_full_url(world: World) -> None:
    settings = {"ecomCheckout": {"path": "/custom-checkout", "published": False},
                "eventsCheckout": {"path": "/our-events", "published": True}}
    with world.services.db.engine.begin() as c:
        c.execute(sa.update(sites).where(sites.c.id == world.tenant.site_id).values(page_settings=settings))

    def endpoint(intent: str, **prefs: bool) -> str:
        r = world.create({intent: INTENTS[intent], "preferences": prefs})
        return str(r.json()["redirectSession"]["urlDetails"]["endpoint"])

    assert endpoint("ecomCheckout").endswith("/flow/ecom-checkout")
    assert endpoint("ecomCheckout", useGenericWixPages=False).endswith("/custom-checkout")
    assert endpoint("ecomCheckout", checkIfPublish=True).endswith("/flow/ecom-checkout")  # not published
    assert endpoint("eventsCheckout", checkIfPublish=True).endswith("/our-events")
    assert endpoint("paidPlansCheckout", useGenericWixPages=False).endswith("/flow/plans-checkout")  # none set


class FixedProvider(FlowProvider):
    """A provider a platform might plug in: one fixed item, order ids of its own."""

    def view(self, request: FlowRequest) -> FlowView:
        return FlowView(title="Checkout", items=[LineItem("Gift card", 1, "50.00")], total="50.00", currency="EUR")

    def place_order(self, request: FlowRequest, buyer: Buyer, choice: str | None = None) -> PlacedOrder:
        return PlacedOrder("11111111-2222-4333-8444-555555555555", "A-1")


def test_a_site_can_plug_in_its_own_provider(world: World) -> None:
    with world.services.db.engine.begin() as c:
        c.execute(sa.update(sites).where(sites.c.id == world.tenant.site_id)
                  .values(flow_provider="tests.app.test_hosted_flows:FixedProvider"))
    url, page = _open(world, "ecomCheckout")
    assert "Gift card" in page and "50.00 EUR" in page
    r = submit(world.client, page, url.split("?")[0])
    assert query_of(r.headers["location"])["orderId"] == "11111111-2222-4333-8444-555555555555"


def test_flow_pages_are_translated(world: World) -> None:
    _, page = _open(world, "ecomCheckout", preferences={"additionalQueryParameters": {"lang": "de"}})
    assert "Bestellen" in page and "Summe" in page and "Zurück zum Warenkorb" in page


class FlakyProvider(FixedProvider):
    """Fails to place the first order it is asked for (a cart service that was down)."""

    calls = 0

    def place_order(self, request: FlowRequest, buyer: Buyer, choice: str | None = None) -> PlacedOrder:
        FlakyProvider.calls += 1
        if FlakyProvider.calls == 1:
            raise ConnectionError("the cart service is down")
        return super().place_order(request, buyer, choice)


def test_a_provider_failure_shows_the_page_again_and_the_next_try_completes(world: World) -> None:
    """Issue 9: the checkout was marked COMPLETED before the provider placed the order, so a
    provider failure left a completed session, a dead link and no order."""
    FlakyProvider.calls = 0
    with world.services.db.engine.begin() as c:
        c.execute(sa.update(sites).where(sites.c.id == world.tenant.site_id)
                  .values(flow_provider="tests.app.test_hosted_flows:FlakyProvider"))
    url, page = _open(world, "ecomCheckout")
    session_id = url.split("redirectSessionId=")[1].split("&")[0]
    failed = submit(world.client, page, url.split("?")[0])
    assert failed.status_code == 502 and "could not be placed" in failed.text
    stored = world.services.store.sessions.get(session_id)
    assert stored is not None and stored.state == "OPENED" and "orderId" not in stored.outcome
    again = submit(world.client, failed.text, url.split("?")[0])
    assert again.status_code == 303
    assert query_of(again.headers["location"])["orderId"] == "11111111-2222-4333-8444-555555555555"
    done = world.services.store.sessions.get(session_id)
    assert done is not None and done.state == "COMPLETED" and FlakyProvider.calls == 2


def test_an_order_stalled_by_a_dead_process_completes_on_retry_with_the_order_already_placed(world: World) -> None:
    """The process placing an order died after the provider placed it: the session stayed
    ORDERING. Once stalled, its browser submits again and gets that same order (the demo provider
    is idempotent per session), not a second one."""
    url, page = _open(world, "ecomCheckout")
    session_id = url.split("redirectSessionId=")[1].split("&")[0]
    stored = world.services.store.sessions.get(session_id)
    assert stored is not None
    provider = world.services.checkout.provider_for(world.tenant.site_id)
    placed = provider.place_order(FlowRequest(stored.site_id, stored.id, stored.intent, stored.params, "en"),
                                  Buyer(None, None))
    stalled_at = int(time.time()) - world.services.settings.order_retry_after
    with world.services.db.engine.begin() as c:
        c.execute(sa.update(redirect_sessions).where(redirect_sessions.c.id == session_id)
                  .values(state="ORDERING", updated_at=stalled_at, version=stored.version + 1))
    again = world.client.get(url)
    assert again.status_code == 200
    done = submit(world.client, again.text, url.split("?")[0])
    assert done.status_code == 303 and query_of(done.headers["location"])["orderId"] == placed.order_id
    finished = world.services.store.sessions.get(session_id)
    assert finished is not None and finished.state == "COMPLETED" and finished.outcome["orderId"] == placed.order_id
