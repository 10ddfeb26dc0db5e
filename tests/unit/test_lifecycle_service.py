"""The session lifecycle's use cases on the in-memory unit of work (``tests/fakes.py``): no database.

Each race below is played out step by step: two units of work read the same session, and the
one that commits second finds it moved. These are the defects of issue 9 item 2 (a checkout
completed before its order, two browsers finishing at once answered 500, a code minted for a
session that then could not finish).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import pytest

from headless_redirects.domain.errors import ApplicationError
from headless_redirects.domain.intents import parse_request
from headless_redirects.domain.lifecycle import (
    ABANDONED,
    COMPLETED,
    EXPIRED,
    OPENED,
    ORDERING,
    RedirectSession,
)
from headless_redirects.service.authorize import AuthorizeService
from headless_redirects.service.checkout import CheckoutService, OrderFailed
from headless_redirects.service.create_session import Caller, SessionService
from headless_redirects.service.expiry import ExpirySweeper
from headless_redirects.service.flows import Browser, FlowService, OtherBrowser, SessionUsed
from headless_redirects.service.session_api import SessionApi
from headless_redirects.service.tenancy import Tenant
from headless_redirects.service.unit_of_work import Conflict
from headless_redirects.service.webhooks import EventWriter
from headless_redirects.settings import Settings
from headless_redirects.storage.tenancy import SiteRow
from tests.fakes import FakeDatabase, FakeProvider, FakeRegistry, FakeUnitOfWork, new_session, run

SETTINGS = Settings()
A = Browser("hrb_a", "browser-a")
B = Browser("hrb_b", "browser-b")


def _flows(db: FakeDatabase, events: EventWriter | None = None) -> FlowService:
    return FlowService(lambda: FakeUnitOfWork(db, events), None, None, None, SETTINGS)


def _stored(db: FakeDatabase, session: RedirectSession) -> RedirectSession:
    db.sessions[session.id] = session
    return session


def _event_types(db: FakeDatabase) -> list[str]:
    return [e["type"] for e in db.events]


def test_landing_opens_and_binds_the_first_browser_only() -> None:
    db = FakeDatabase()
    flows = _flows(db)
    s = _stored(db, new_session())
    opened = flows.land(s.id, A, ("ecomCheckout",))
    assert opened.state == OPENED and opened.bound_browser == A.key and db.sessions[s.id] == opened
    assert flows.land(s.id, A, ("ecomCheckout",)) == opened  # again: nothing written
    assert db.commits == 1
    with pytest.raises(OtherBrowser):
        flows.land(s.id, B, ("ecomCheckout",))


def test_two_browsers_opening_at_once_bind_one() -> None:
    db = FakeDatabase()
    s = _stored(db, new_session())
    now = int(time.time())
    first, second = FakeUnitOfWork(db), FakeUnitOfWork(db)
    read_a, read_b = first.sessions.get(s.id), second.sessions.get(s.id)
    assert read_a is not None and read_b is not None
    first.sessions.save(read_a, read_a.open(now, A.key))
    second.sessions.save(read_b, read_b.open(now, B.key))
    first.commit()
    with pytest.raises(Conflict):
        second.commit()
    assert db.sessions[s.id].bound_browser == A.key  # B's binding was not written
    with pytest.raises(OtherBrowser):  # and B, landing again, is told so
        _flows(db).land(s.id, B, ("ecomCheckout",))


def test_finishing_twice_at_once_is_used_not_an_error() -> None:
    db = FakeDatabase()
    flows = _flows(db)
    opened = flows.land(_stored(db, new_session()).id, A, ("ecomCheckout",))
    flows.move(opened, RedirectSession.complete, {"addedToCart": True})
    with pytest.raises(SessionUsed):  # the second request read the session as OPENED too
        flows.move(opened, RedirectSession.abandon, {"left": "cancel"})
    assert db.sessions[opened.id].state == COMPLETED and db.sessions[opened.id].outcome == {"addedToCart": True}


def _checkout(db: FakeDatabase, provider: FakeProvider,
              events: EventWriter | None = None) -> tuple[FlowService, CheckoutService]:
    flows = _flows(db, events)
    return flows, CheckoutService(flows, None, None, None, None, lambda _site: provider, run)


def test_a_checkout_completes_only_with_its_order() -> None:
    db, provider = FakeDatabase(), FakeProvider()
    flows, checkout = _checkout(db, provider)
    opened = flows.land(_stored(db, new_session()).id, A, ("ecomCheckout",))
    seen: list[str] = []
    provider.before_order = lambda: seen.append(db.sessions[opened.id].state)
    placed = asyncio.run(checkout.place_order(opened, A, "en"))
    assert seen == [ORDERING]  # while the provider works, the session is neither OPENED nor COMPLETED
    assert placed.params == {"orderId": "order-1"}
    stored = db.sessions[opened.id]
    assert stored.state == COMPLETED and stored.outcome["orderId"] == "order-1"
    assert len(provider.orders) == 1


def test_a_provider_failure_leaves_the_session_usable_then_it_can_complete() -> None:
    db, provider = FakeDatabase(), FakeProvider()
    flows, checkout = _checkout(db, provider)
    opened = flows.land(_stored(db, new_session()).id, A, ("ecomCheckout",))
    provider.failing = True
    with pytest.raises(OrderFailed):
        asyncio.run(checkout.place_order(opened, A, "en"))
    reopened = db.sessions[opened.id]
    assert reopened.state == OPENED and "orderId" not in reopened.outcome  # not half-done
    provider.failing = False
    again = flows.land(opened.id, A, ("ecomCheckout",))
    placed = asyncio.run(checkout.place_order(again, A, "en"))
    assert placed.session.state == COMPLETED and len(provider.orders) == 1


def test_a_second_submission_while_ordering_orders_nothing() -> None:
    db, provider = FakeDatabase(), FakeProvider()
    flows, checkout = _checkout(db, provider)
    opened = flows.land(_stored(db, new_session()).id, A, ("ecomCheckout",))
    results: list[Any] = []

    def submit_again() -> None:  # the same form, posted again while the first order is placed
        try:
            asyncio.run(checkout.place_order(opened, A, "en"))
        except SessionUsed as exc:
            results.append(exc)

    provider.before_order = lambda: (setattr(provider, "before_order", None), submit_again())  # type: ignore[func-returns-value]
    asyncio.run(checkout.place_order(opened, A, "en"))
    assert len(results) == 1 and isinstance(results[0], SessionUsed)
    assert len(provider.orders) == 1 and db.sessions[opened.id].state == COMPLETED


def test_webhooks_hear_completed_once_with_the_order_and_nothing_of_ordering() -> None:
    db, provider = FakeDatabase(), FakeProvider()
    events = EventWriter(FakeRegistry("site-1"), "https://hr.example")
    flows, checkout = _checkout(db, provider, events)
    s = new_session()
    with FakeUnitOfWork(db, events) as uow:  # created through a unit of work, as the API does
        uow.sessions.add(s)
        uow.commit()
    opened = flows.land(s.id, A, ("ecomCheckout",))
    provider.failing = True
    with pytest.raises(OrderFailed):
        asyncio.run(checkout.place_order(opened, A, "en"))
    provider.failing = False
    asyncio.run(checkout.place_order(db.sessions[s.id], A, "en"))
    assert _event_types(db) == ["redirect_session.created", "redirect_session.opened",
                                "redirect_session.completed"]
    assert '"orderId":"order-1"' in db.events[-1]["body"]


def test_a_code_exists_only_if_its_session_completed() -> None:
    db = FakeDatabase()
    flows = _flows(db)
    s = _stored(db, new_session("auth", params={"clientId": "client-1", "state": "xyz"}))
    opened = flows.land(s.id, A, ("auth",))
    authorize = AuthorizeService(flows, SETTINGS)
    answer = authorize.grant(opened, "member-1")
    assert answer.code and answer.state == "xyz" and len(db.codes) == 1
    with pytest.raises(SessionUsed):  # a second tab that read the session as OPENED
        authorize.grant(opened, "member-1")
    assert len(db.codes) == 1  # the loser left no live, undelivered code
    stored = db.sessions[s.id]
    assert stored.state == COMPLETED and stored.outcome["memberId"] == "member-1"


def test_refusing_ends_the_session_without_a_code() -> None:
    db = FakeDatabase()
    flows = _flows(db)
    opened = flows.land(_stored(db, new_session("auth", params={"clientId": "c"})).id, A,
                        ("auth",))
    answer = AuthorizeService(flows, SETTINGS).refuse(opened, "login_required", "no member is logged in")
    assert answer.code is None and answer.error == "login_required" and not db.codes
    assert db.sessions[opened.id].state == ABANDONED


def _caller(site_id: str = "site-1") -> Caller:
    site = SiteRow(site_id, "Shop", None, ["en"], {}, "demo", 0)
    return Caller(Tenant(site, {}), None, None, "key-1")


def test_the_session_api_shows_an_order_being_placed_as_opened_and_will_not_expire_it() -> None:
    db = FakeDatabase()
    s = _stored(db, new_session(state=ORDERING, bound_browser=A.key))
    api = SessionApi(db.uow, None, SETTINGS)
    assert api.get(_caller(), s.id).redirectSession.state == OPENED
    with pytest.raises(ApplicationError) as refused:
        api.expire(_caller(), s.id)
    assert refused.value.status == 409 and db.sessions[s.id].state == ORDERING
    live = _stored(db, new_session(state=OPENED))
    assert api.expire(_caller(), live.id).redirectSession.state == EXPIRED
    assert db.sessions[live.id].state == EXPIRED and db.sessions[live.id].version == 1


def test_the_sweeper_records_expiry_once_and_skips_what_moved() -> None:
    db = FakeDatabase()
    events = EventWriter(FakeRegistry("site-1"), "https://hr.example")
    late = _stored(db, new_session(ttl=-1))
    moved = _stored(db, new_session(ttl=-1))
    stale = moved  # what the sweeper read; meanwhile the session moved on
    db.sessions[moved.id] = moved.open(int(time.time()) - 10**6, A.key)
    sweep = ExpirySweeper(lambda: FakeUnitOfWork(db, events), lambda: frozenset({"site-1"}),
                          lambda sites, now, limit: [late, stale])
    assert sweep(int(time.time())) == 1
    assert db.sessions[late.id].state == EXPIRED and _event_types(db) == ["redirect_session.expired"]
    assert db.sessions[moved.id].state == OPENED


def test_creating_stores_the_session_with_its_idempotent_answer_and_event_in_one_commit() -> None:
    db = FakeDatabase()
    events = EventWriter(FakeRegistry("site-1"), "https://hr.example")  # type: ignore[arg-type]
    service = SessionService(lambda: FakeUnitOfWork(db, events), lambda code: None, None, None,  # type: ignore[arg-type]
                             SETTINGS)
    request, violations = parse_request({"ecomCheckout": {"checkoutId": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"},
                                         "callbacks": {"postFlowUrl": "https://shop.example.com/back"}})
    assert request is not None and not violations
    answer = service.store_session(_caller().tenant, request, None, None, "client-1", idempotency_key_hash="k")
    stored = db.sessions[answer.redirectSession.id]
    assert stored.state == "CREATED" and stored.full_url == answer.redirectSession.fullUrl
    assert db.commits == 1 and db.answers["k"] == (200, msgspec.json.encode(answer).decode())
    assert _event_types(db) == ["redirect_session.created"]


def test_an_order_whose_process_died_can_be_placed_again_by_its_browser_once_it_stalled() -> None:
    db, provider = FakeDatabase(), FakeProvider()
    flows, checkout = _checkout(db, provider)
    now = int(time.time())
    fresh = _stored(db, new_session(state=ORDERING, bound_browser=A.key, updated_at=now))
    with pytest.raises(SessionUsed):  # its order may still be on its way: nobody orders again
        flows.land(fresh.id, A, ("ecomCheckout",))
    stalled = _stored(db, new_session(state=ORDERING, bound_browser=A.key,
                                      updated_at=now - SETTINGS.order_retry_after))
    with pytest.raises(OtherBrowser):
        flows.land(stalled.id, B, ("ecomCheckout",))
    landed = flows.land(stalled.id, A, ("ecomCheckout",))
    assert landed == stalled and db.sessions[stalled.id].version == 0  # landing writes nothing
    placed = asyncio.run(checkout.place_order(landed, A, "en"))
    assert placed.session.state == COMPLETED and provider.orders == [(stalled.id, provider.orders[0][1])]
    with pytest.raises(SessionUsed):  # a second tab that landed on the stalled order too
        asyncio.run(checkout.place_order(landed, A, "en"))
    assert len(provider.orders) == 1
