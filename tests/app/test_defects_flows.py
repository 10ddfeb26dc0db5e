"""Issue 9, item 6: the flow pages' defects, each with the test that catches it: the booking
page's posted choice, the site's own provider behind the booking continuation, slot dates the
pages cannot show, and blocking work (argon2, a flow provider's calls) kept off the event loop
(SPEC §8). Blocking is measured as ordering, never against a time budget: the blocking call
waits until ``/healthz`` has been answered, which can only happen if the loop is free."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Literal

import anyio
import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from headless_redirects.domain.outcomes import PlacedOrder
from headless_redirects.flows import Buyer, FlowProvider, FlowRequest, FlowView, LineItem, Option
from headless_redirects.storage.tables import redirect_sessions, sites
from tests.conftest import GUID, World
from tests.flows import CALLBACKS
from tests.identity import EMAIL, PASSWORD, auth_body, form_fields, path_of, session_url

# Long enough never to be reached when the loop is free; only a blocked loop waits it out.
DEADLOCK_BREAKER = 20.0


def _use_provider(w: World, name: str) -> None:
    with w.services.db.engine.begin() as c:
        c.execute(sa.update(sites).where(sites.c.id == w.tenant.site_id).values(flow_provider=name))


def _open(w: World, body: dict[str, Any]) -> tuple[str, str]:
    r = w.create({**body, "callbacks": CALLBACKS})
    assert r.status_code == 200, r.text
    url = path_of(r.json()["redirectSession"]["fullUrl"])
    page = w.client.get(url)
    assert page.status_code == 200, page.text
    return url, page.text


def _sessions(w: World, intent: str) -> list[Any]:
    with w.services.db.engine.connect() as c:
        return list(c.execute(sa.select(redirect_sessions).where(redirect_sessions.c.intent == intent)))


def _state(w: World, url: str) -> str:
    session = w.services.store.sessions.get(url.split("redirectSessionId=")[1].split("&")[0])
    assert session is not None
    return session.state


# --- the booking page's posted choice --------------------------------------------------------------

@pytest.mark.parametrize("choice", [
    "0|2027-01-01T09:00:00|99999999999999999999|Dana",  # minutes past any calendar: was a 500
    "0|9999-12-31T23:00:00|120|Dana",  # the slot ends after year 9999: was a 500
    "0|0001-01-01T00:00:00|60|Dana",  # stored "1-01-01T00:00:00Z": every GET of it was a 500
    "7|2027-01-01T09:00:00|60|Dana",  # no such service
    "0|2027-01-01T09:00:00|60|<script>",
    "",
])
def test_a_choice_the_page_did_not_offer_is_refused(world: World, choice: str) -> None:
    url, page = _open(world, {"bookingsBook": {"resourceId": GUID}})
    r = world.client.post("/flow/book", data={**form_fields(page), "action": "complete", "choice": choice},
                          follow_redirects=False)
    assert r.status_code == 400 and "Choose a time." in r.text and 'data-testid="option"' in r.text
    assert _state(world, url) == "OPENED" and _sessions(world, "bookingsCheckout") == []
    assert world.client.get(url).status_code == 200


def test_an_offered_choice_still_leads_on_to_the_checkout(world: World) -> None:
    url, page = _open(world, {"bookingsBook": {"resourceId": GUID}})
    choice = page.split('name="choice" value="')[1].split('"')[0]
    r = world.client.post("/flow/book", data={**form_fields(page), "action": "complete", "choice": choice},
                          follow_redirects=False)
    assert r.status_code == 303
    checkout = world.client.get(path_of(r.headers["location"]))
    assert checkout.status_code == 200 and choice.split("|")[3] in checkout.text
    [stored] = _sessions(world, "bookingsCheckout")
    start = stored.params["slotAvailability"]["slot"]["startDate"]
    assert start.startswith(choice.split("|")[1][:4] + "-") and start.endswith("Z")


@pytest.mark.parametrize(("start", "end", "zone"), [
    ("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z", "America/New_York"),
    ("9999-12-31T22:00:00Z", "9999-12-31T23:00:00Z", "Pacific/Kiritimati"),
])
def test_slot_dates_the_pages_cannot_show_are_refused_by_the_api(world: World, start: str, end: str,
                                                                  zone: str) -> None:
    slot = {"serviceId": GUID, "startDate": start, "endDate": end, "timezone": zone}
    r = world.create({"bookingsCheckout": {"slotAvailability": {"slot": slot}}})
    assert r.status_code == 400, r.text
    fields = {v["field"] for v in r.json()["details"]["validationError"]["fieldViolations"]}
    assert fields == {"bookingsCheckout.slotAvailability.slot.startDate",
                      "bookingsCheckout.slotAvailability.slot.endDate"}


# --- the booking continuation comes from the site's own provider -----------------------------------

SERVICE = "5d4b1b4a-7f3c-4b8e-9a41-2f6a0c9e1d24"


class StudioProvider(FlowProvider):
    """A platform's own booking page: its own slot ids and its own services."""

    def view(self, request: FlowRequest) -> FlowView:
        if request.intent == "bookingsBook":
            return FlowView(title="Book a session", options=[Option("slot-a", "Tuesday 10:00"),
                                                             Option("slot-b", "Wednesday 10:00")])
        return FlowView(title="Checkout", items=[LineItem("Studio hour", 1, "30.00")], total="30.00")

    def place_order(self, request: FlowRequest, buyer: Buyer, choice: str | None = None) -> PlacedOrder:
        return PlacedOrder("11111111-2222-4333-8444-555555555555", "S-1")

    def booking_checkout(self, request: FlowRequest, choice: str) -> dict[str, Any] | None:
        if choice == "slot-b":
            # a provider bug: the API would refuse this slot, so the page must too
            return {"slotAvailability": {"slot": {"serviceId": SERVICE, "startDate": "0001-01-01T10:00:00Z",
                                                  "endDate": "0001-01-01T11:00:00Z"}}}
        return {"timezone": "Europe/Berlin", "slotAvailability": {"slot": {
            "serviceId": SERVICE, "startDate": "2027-03-02T10:00:00Z", "endDate": "2027-03-02T11:00:00Z",
            "resource": {"name": "Studio 2"}}, "bookable": True}}


def test_the_booking_continuation_uses_the_sites_provider(world: World) -> None:
    _use_provider(world, "tests.app.test_defects_flows:StudioProvider")
    _, page = _open(world, {"bookingsBook": {}})
    assert "Tuesday 10:00" in page
    r = world.client.post("/flow/book", data={**form_fields(page), "action": "complete", "choice": "slot-a"},
                          follow_redirects=False)
    assert r.status_code == 303, r.text
    [stored] = _sessions(world, "bookingsCheckout")
    assert stored.params == {"timezone": "Europe/Berlin", "slotAvailability": {"slot": {
        "serviceId": SERVICE, "startDate": "2027-03-02T10:00:00Z", "endDate": "2027-03-02T11:00:00Z",
        "resource": {"name": "Studio 2"}}, "bookable": True, "locked": False}}
    assert stored.callbacks == CALLBACKS


def test_a_providers_invalid_booking_is_refused_like_the_apis(world: World) -> None:
    _use_provider(world, "tests.app.test_defects_flows:StudioProvider")
    url, page = _open(world, {"bookingsBook": {}})
    r = world.client.post("/flow/book", data={**form_fields(page), "action": "complete", "choice": "slot-b"},
                          follow_redirects=False)
    assert r.status_code == 400 and _state(world, url) == "OPENED" and _sessions(world, "bookingsCheckout") == []


# --- blocking work never runs on the event loop ----------------------------------------------------

class Blocking:
    """A blocking call that returns only once ``/healthz`` was answered (or the breaker fires),
    recording the order of events."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.answered = threading.Event()
        self.order: list[str] = []

    def block(self, what: str) -> None:
        self.order.append(f"{what} started")
        self.started.set()
        self.answered.wait(DEADLOCK_BREAKER)
        self.order.append(f"{what} done")

    def while_blocked(self, app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send the request; once the blocking call has started, ask for ``/healthz``."""
        result: dict[str, httpx.Response] = {}

        async def scenario() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                async def slow() -> None:
                    result["slow"] = await client.request(method, path, **kwargs)
                    self.order.append("request answered")

                async with anyio.create_task_group() as tg:
                    tg.start_soon(slow)
                    await anyio.to_thread.run_sync(self.started.wait, DEADLOCK_BREAKER)
                    health = await client.get("/healthz")
                    assert health.status_code == 200
                    self.order.append("healthz answered")
                    self.answered.set()

        anyio.run(scenario)
        return result["slow"]


@pytest.fixture
def blocking() -> Iterator[Blocking]:
    b = Blocking()
    WaitingProvider.blocking = b
    yield b
    WaitingProvider.blocking = None


def _cookie(w: World) -> dict[str, str]:
    return {"cookie": f"hr_session={w.client.cookies.get('hr_session')}"}


def test_a_failed_hosted_login_does_not_stall_other_requests(world: World, blocking: Blocking,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    world.services.members.create(world.tenant.site_id, EMAIL, PASSWORD)

    class SlowHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            blocking.block("password check")
            return super().verify(hash, password)

    monkeypatch.setattr(world.services.members.passwords, "hasher", SlowHasher())
    page = world.client.get(session_url(world, auth_body(world)))
    data = {**form_fields(page.text), "email": EMAIL, "password": "wrong password", "action": "login"}
    r = blocking.while_blocked(world.client.app, "POST", "/_api/oauth2/authorize", data=data, headers=_cookie(world))
    assert r.status_code == 400 and "Wrong email or password" in r.text
    assert blocking.order == ["password check started", "healthz answered", "password check done",
                              "request answered"]


class WaitingProvider(FlowProvider):
    """A provider whose calls wait on a slow back end (here: until /healthz was answered)."""

    blocking: Blocking | None = None

    def _wait(self, what: str) -> None:
        if self.blocking is not None:
            self.blocking.block(what)

    def view(self, request: FlowRequest) -> FlowView:
        self._wait("view")
        return FlowView(title="Checkout", items=[LineItem("Gift card", 1, "50.00")], total="50.00")

    def place_order(self, request: FlowRequest, buyer: Buyer, choice: str | None = None) -> PlacedOrder:
        self._wait("place_order")
        return PlacedOrder("11111111-2222-4333-8444-555555555555", "W-1")


def test_a_flow_providers_page_data_is_fetched_off_the_event_loop(world: World, blocking: Blocking) -> None:
    _use_provider(world, "tests.app.test_defects_flows:WaitingProvider")
    r = world.create({"ecomCheckout": {"checkoutId": GUID}, "callbacks": CALLBACKS})
    url = path_of(r.json()["redirectSession"]["fullUrl"])
    page = blocking.while_blocked(world.client.app, "GET", url)
    assert page.status_code == 200 and "Gift card" in page.text
    assert blocking.order == ["view started", "healthz answered", "view done", "request answered"]


def test_a_flow_providers_order_is_placed_off_the_event_loop(world: World, blocking: Blocking) -> None:
    _use_provider(world, "tests.app.test_defects_flows:WaitingProvider")
    WaitingProvider.blocking = None  # the page itself loads at once
    url, page = _open(world, {"ecomCheckout": {"checkoutId": GUID}})
    WaitingProvider.blocking = blocking
    data = {**form_fields(page), "action": "complete"}
    r = blocking.while_blocked(world.client.app, "POST", "/flow/ecom-checkout", data=data, headers=_cookie(world))
    assert r.status_code == 303 and "orderId=11111111-2222-4333-8444-555555555555" in r.headers["location"]
    assert blocking.order == ["place_order started", "healthz answered", "place_order done", "request answered"]
