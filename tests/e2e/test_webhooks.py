"""Webhooks end to end (SPEC §12): a live server, a real receiver that verifies every delivery
with the `standardwebhooks` library, the hosted flow pages driven over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from headless_redirects.service.webhooks import new_endpoint
from tests.conftest import GUID
from tests.flows import submit
from tests.live import Live, live_server
from tests.webhook_receiver import Receiver, receiver

FAST = {"webhook_retry_schedule": "0.2,0.2", "webhook_poll_interval": 0.1, "tenant_cache_seconds": 0}
THANKS = "http://127.0.0.1:3000/thanks"
SESSIONS = "/_api/redirects-api/v1/redirect-session"


@pytest.fixture
def env(tmp_path: Any) -> Iterator[tuple[Live, Receiver]]:
    with receiver() as hook, live_server(f"sqlite:///{tmp_path}/hooks.db", **FAST) as live:
        endpoint = new_endpoint(live.tenant.site_id, hook.url, [])
        live.services.webhooks.add_endpoint(endpoint)
        hook.secret = endpoint.secret
        time.sleep(1.1)  # instances notice a new endpoint within a second
        yield live, hook


def api(live: Live) -> dict[str, str]:
    return {"Authorization": live.tenant.api_key, "wix-site-id": live.tenant.site_id}


def create(live: Live, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(live.url + SESSIONS, json=body, headers=api(live))
    assert r.status_code == 200, r.text
    return r.json()["redirectSession"]  # type: ignore[no-any-return]


def checkout(live: Live) -> dict[str, Any]:
    return create(live, {"ecomCheckout": {"checkoutId": GUID},
                         "callbacks": {"thankYouPageUrl": THANKS, "postFlowUrl": "http://127.0.0.1:3000/after"}})


def test_created_opened_completed_with_the_order_of_the_thank_you_url(env: tuple[Live, Receiver]) -> None:
    live, hook = env
    session = checkout(live)
    with httpx.Client(base_url=live.url) as browser:
        path = session["fullUrl"].removeprefix(live.url)
        page = browser.get(path)
        assert page.status_code == 200
        done = submit(browser, page.text, urlsplit(path).path)  # type: ignore[arg-type]
    assert done.status_code == 303
    order_id = parse_qs(urlsplit(done.headers["location"]).query)["orderId"][0]
    events = hook.wait_for(3)
    assert [e["type"] for e in events] == ["redirect_session.created", "redirect_session.opened",
                                            "redirect_session.completed"]
    assert all(e["data"]["redirectSession"]["id"] == session["id"] for e in events)
    assert [e["data"]["redirectSession"]["state"] for e in events] == ["CREATED", "OPENED", "COMPLETED"]
    completed = events[2]["data"]["redirectSession"]
    assert completed["outcome"]["orderId"] == order_id
    got = httpx.get(f"{live.url}{SESSIONS}/{session['id']}", headers=api(live)).json()["redirectSession"]
    assert got["outcome"]["orderId"] == order_id and got["state"] == "COMPLETED"
    assert len({e["id"] for e in events}) == 3 and all(e["id"].startswith("msg_") for e in events)
    assert hook.refused == []


def test_abandoned(env: tuple[Live, Receiver]) -> None:
    live, hook = env
    session = checkout(live)
    with httpx.Client(base_url=live.url) as browser:
        path = session["fullUrl"].removeprefix(live.url)
        submit(browser, browser.get(path).text, urlsplit(path).path, action="cancel")  # type: ignore[arg-type]
    (event,) = hook.wait_for(1, "redirect_session.abandoned")
    assert event["data"]["redirectSession"]["state"] == "ABANDONED"


def test_expired_by_the_expire_call_and_by_the_sweeper(tmp_path: Any) -> None:
    with receiver() as hook, live_server(f"sqlite:///{tmp_path}/exp.db", session_ttl=10, **FAST) as live:
        endpoint = new_endpoint(live.tenant.site_id, hook.url, ["redirect_session.expired"])
        live.services.webhooks.add_endpoint(endpoint)
        hook.secret = endpoint.secret
        time.sleep(1.1)
        by_call, by_time = checkout(live), checkout(live)
        r = httpx.post(f"{live.url}{SESSIONS}/{by_call['id']}/expire", headers=api(live))
        assert r.status_code == 200 and r.json()["redirectSession"]["state"] == "EXPIRED"
        (first,) = hook.wait_for(1, "redirect_session.expired")
        assert first["data"]["redirectSession"]["id"] == by_call["id"]
        # the sweeper reports the other one once its 10 s are over
        events = hook.wait_for(2, "redirect_session.expired", timeout=20)
        assert events[1]["data"]["redirectSession"]["id"] == by_time["id"]
        assert hook.events("redirect_session.created") == []  # subscribed to expired only


def test_member_created(env: tuple[Live, Receiver]) -> None:
    live, hook = env
    visitor = httpx.post(f"{live.url}/oauth2/token", json={"clientId": live.tenant.client_id,
                                                           "grantType": "anonymous"}).json()["access_token"]
    r = httpx.post(f"{live.url}/_api/iam/authentication/v2/register",
                   json={"loginId": {"email": "hook@example.com"}, "password": "long enough"},
                   headers={"Authorization": visitor})
    assert r.status_code == 200
    (event,) = hook.wait_for(1, "member.created")
    assert event["data"]["member"]["loginEmail"] == "hook@example.com"
    assert event["data"]["member"]["id"] == r.json()["identity"]["id"]


def test_a_failing_receiver_gets_the_same_webhook_id_again(env: tuple[Live, Receiver]) -> None:
    live, hook = env
    hook.fail_next = 2
    session = checkout(live)
    events = hook.wait_for(3)
    assert [e["status"] for e in events] == [500, 500, 200]
    assert len({e["id"] for e in events}) == 1  # one event, three attempts
    assert events[0]["raw"] == events[2]["raw"]  # the same body every time
    assert events[0]["data"]["redirectSession"]["id"] == session["id"]
    # The dispatcher records an attempt once its answer is back: the receiver has the third
    # before the third is recorded.
    endpoint_id = live.services.webhooks.endpoints(live.tenant.site_id)[0].id
    for _ in range(100):  # bounded: 5 s
        attempts = live.services.webhooks.attempts(endpoint_id)
        if len(attempts) == 3:
            break
        time.sleep(0.05)
    assert [a.status_code for a in sorted(attempts, key=lambda a: a.attempt)] == [500, 500, 200]


def test_the_endpoint_is_disabled_after_the_last_retry(env: tuple[Live, Receiver]) -> None:
    live, hook = env
    hook.fail_next = 1000
    checkout(live)
    hook.wait_for(3)  # the first attempt and the two retries of the schedule
    time.sleep(1)
    assert len(hook.events()) == 3
    (endpoint,) = live.services.webhooks.endpoints(live.tenant.site_id)
    deadline = time.monotonic() + 5
    while live.services.webhooks.endpoint(endpoint.id).disabled_at is None:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    disabled = live.services.webhooks.endpoint(endpoint.id)
    assert disabled is not None and "failed after 3 attempts" in (disabled.disabled_reason or "")
    checkout(live)
    time.sleep(1.5)
    assert len(hook.events()) == 3  # nothing more goes to a disabled endpoint


def test_events_of_one_session_arrive_in_order_even_when_one_is_retried(env: tuple[Live, Receiver]) -> None:
    live, hook = env
    hook.fail_next = 1  # the created event fails once; opened must wait for it
    session = checkout(live)
    with httpx.Client(base_url=live.url) as browser:
        browser.get(session["fullUrl"].removeprefix(live.url))
    events = hook.wait_for(3)
    assert [(e["type"], e["status"]) for e in events] == [
        ("redirect_session.created", 500), ("redirect_session.created", 200), ("redirect_session.opened", 200)]


def test_a_site_without_webhooks_writes_no_events(env: tuple[Live, Receiver]) -> None:
    live, _hook = env
    from headless_redirects.service.tenancy import create_tenant

    other = create_tenant(live.services.store, name="Quiet", public_url=None, allowed_domains=["127.0.0.1"],
                          redirect_uris=[])
    r = httpx.post(live.url + SESSIONS, json={"ecomCheckout": {"checkoutId": GUID}},
                   headers={"Authorization": other.api_key, "wix-site-id": other.site_id})
    assert r.status_code == 200
    assert live.services.webhooks.events_of(r.json()["redirectSession"]["id"]) == []
