"""The session API (SPEC §12): get, list, expire, with tenancy and the documented errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from headless_redirects.service.tenancy import create_tenant
from tests.conftest import GUID, SESSION_PATH, World
from tests.identity import path_of

BASE = "/_api/redirects-api/v1"


def key_headers(world: World) -> dict[str, str]:
    return {"Authorization": world.tenant.api_key, "wix-site-id": world.tenant.site_id}


def make(world: World, body: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
    body = body or {"ecomCheckout": {"checkoutId": GUID}, "callbacks": {"postFlowUrl": "https://shop.example.com/a"}}
    if token is None:
        r = world.client.post(SESSION_PATH, json=body, headers=key_headers(world))
    else:
        r = world.create(body, token)
    assert r.status_code == 200, r.text
    return r.json()["redirectSession"]  # type: ignore[no-any-return]


def get(world: World, session_id: str, **headers: str) -> Any:
    return world.client.get(f"{BASE}/redirect-session/{session_id}", headers=headers or key_headers(world))


def test_get_a_session(world: World) -> None:
    created = make(world)
    r = get(world, created["id"])
    assert r.status_code == 200, r.text
    session = r.json()["redirectSession"]
    assert set(session) == {"id", "intent", "state", "fullUrl", "shortUrl", "callbacks", "createdDate",
                            "updatedDate", "expiresDate", "outcome"}
    assert session["id"] == created["id"] and session["intent"] == "ecomCheckout" and session["state"] == "CREATED"
    assert session["fullUrl"] == created["fullUrl"] and session["shortUrl"] == created["shortUrl"]
    assert session["callbacks"] == {"postFlowUrl": "https://shop.example.com/a"} and session["outcome"] == {}
    assert session["createdDate"].endswith("Z") and session["createdDate"] == session["updatedDate"]


def test_opening_moves_the_state_and_the_updated_date(world: World) -> None:
    created = make(world)
    time.sleep(1.01)
    world.client.get(path_of(created["fullUrl"]))
    session = get(world, created["id"]).json()["redirectSession"]
    assert session["state"] == "OPENED" and session["updatedDate"] > session["createdDate"]


def test_tenancy(world: World) -> None:
    visitor, other_visitor = world.visitor()["access_token"], world.visitor()["access_token"]
    mine = make(world, token=visitor)
    assert get(world, mine["id"], Authorization=visitor).status_code == 200
    assert get(world, mine["id"]).status_code == 200  # the site's API key sees every session of the site
    r = get(world, mine["id"], Authorization=other_visitor)
    assert r.status_code == 404 and r.json()["details"]["applicationError"]["code"] == "NOT_FOUND"
    other = create_tenant(world.services.store, name="Other", public_url=None, allowed_domains=["o.example.com"],
                          redirect_uris=[])
    assert get(world, mine["id"], Authorization=other.api_key, **{"wix-site-id": other.site_id}).status_code == 404
    assert get(world, "0fc930e0-5bc6-4dfe-b828-000000000000").status_code == 404
    assert world.client.get(f"{BASE}/redirect-session/{mine['id']}").status_code == 401
    r = world.client.post(f"{BASE}/redirect-session/{mine['id']}/expire", headers={"Authorization": other_visitor})
    assert r.status_code == 404 and get(world, mine["id"]).json()["redirectSession"]["state"] == "CREATED"


def test_list_newest_first_with_filters_and_cursor(world: World) -> None:
    ids = [make(world)["id"] for _ in range(5)]
    login = make(world, {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/a"}})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        r = world.client.get(f"{BASE}/redirect-sessions", params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                             headers=key_headers(world))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["pagingMetadata"]["count"] == len(body["redirectSessions"]) <= 2
        seen += [s["id"] for s in body["redirectSessions"]]
        pages += 1
        cursor = body["pagingMetadata"]["cursors"]["next"]
        if cursor is None:
            break
    assert pages == 3 and sorted(seen) == sorted([*ids, login["id"]]) and len(seen) == 6
    dates = [get(world, i).json()["redirectSession"]["createdDate"] for i in seen]
    assert dates == sorted(dates, reverse=True)
    only_login = world.client.get(f"{BASE}/redirect-sessions", params={"intent": "login"},
                                  headers=key_headers(world)).json()
    assert [s["id"] for s in only_login["redirectSessions"]] == [login["id"]]
    future = world.client.get(f"{BASE}/redirect-sessions", params={"createdFrom": "2999-01-01T00:00:00Z"},
                              headers=key_headers(world)).json()
    assert future["redirectSessions"] == [] and future["pagingMetadata"]["cursors"]["next"] is None
    past = world.client.get(f"{BASE}/redirect-sessions", params={"createdTo": "2000-01-01T00:00:00+00:00"},
                            headers=key_headers(world)).json()
    assert past["redirectSessions"] == []


def test_list_by_state_and_for_a_visitor(world: World) -> None:
    visitor = world.visitor()["access_token"]
    mine = make(world, token=visitor)
    make(world)
    expired = make(world)
    world.client.post(f"{BASE}/redirect-session/{expired['id']}/expire", headers=key_headers(world))
    r = world.client.get(f"{BASE}/redirect-sessions", params={"state": "EXPIRED"}, headers=key_headers(world))
    assert [s["id"] for s in r.json()["redirectSessions"]] == [expired["id"]]
    r = world.client.get(f"{BASE}/redirect-sessions", params={"state": "CREATED"}, headers=key_headers(world))
    assert len(r.json()["redirectSessions"]) == 2
    r = world.client.get(f"{BASE}/redirect-sessions", headers={"Authorization": visitor})
    assert [s["id"] for s in r.json()["redirectSessions"]] == [mine["id"]]


@pytest.mark.parametrize("params,field", [
    ({"state": "DONE"}, "state"), ({"intent": "nope"}, "intent"), ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"), ({"limit": "x"}, "limit"), ({"createdFrom": "yesterday"}, "createdFrom"),
    ({"createdTo": "2026-01-01T00:00:00"}, "createdTo"), ({"cursor": "!!"}, "cursor"),
])
def test_list_refuses_bad_parameters(world: World, params: dict[str, str], field: str) -> None:
    r = world.client.get(f"{BASE}/redirect-sessions", params=params, headers=key_headers(world))
    assert r.status_code == 400
    violations = r.json()["details"]["validationError"]["fieldViolations"]
    assert [v["field"] for v in violations] == [field]


def test_expire(world: World) -> None:
    created = make(world)
    r = world.client.post(f"{BASE}/redirect-session/{created['id']}/expire", headers=key_headers(world))
    assert r.status_code == 200 and r.json()["redirectSession"]["state"] == "EXPIRED"
    page = world.client.get(path_of(created["fullUrl"]))
    assert page.status_code == 410  # its URL shows the expired page
    again = world.client.post(f"{BASE}/redirect-session/{created['id']}/expire", headers=key_headers(world))
    assert again.status_code == 200 and again.json()["redirectSession"]["state"] == "EXPIRED"
    short = world.client.get(path_of(created["shortUrl"]), follow_redirects=False)
    assert short.status_code == 302 and short.headers["location"] == created["fullUrl"]  # → the expired page


def test_expiring_a_finished_session_is_a_conflict(world: World) -> None:
    created = make(world, {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/a"}})
    page = world.client.get(path_of(created["fullUrl"]))
    from tests.identity import submit_login

    submit_login(world.client, page.text, action="/flow/login", button="cancel")
    r = world.client.post(f"{BASE}/redirect-session/{created['id']}/expire", headers=key_headers(world))
    assert r.status_code == 409
    error = r.json()["details"]["applicationError"]
    assert error["code"] == "SESSION_ALREADY_FINISHED" and "ABANDONED" in r.json()["message"]
    assert get(world, created["id"]).json()["redirectSession"]["state"] == "ABANDONED"


def test_the_outcome_names_the_member_who_logged_in(world: World) -> None:
    from tests.identity import EMAIL, PASSWORD, auth_body, query_of, session_url, submit_login

    member = world.services.members.create(world.tenant.site_id, EMAIL, PASSWORD)
    login = make(world, {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/a"}})
    submit_login(world.client, world.client.get(path_of(login["fullUrl"])).text, action="/flow/login")
    outcome = get(world, login["id"]).json()["redirectSession"]["outcome"]
    assert outcome == {"wixMemberLoggedIn": True, "memberId": member.id}
    # an auth session answered with a code for the member logged in on the hosted site
    auth_path = session_url(world, auth_body(world, prompt="none"))
    r = world.client.get(auth_path, follow_redirects=False)
    assert "code" in query_of(r.headers["location"])
    auth_id = query_of(auth_path)["redirectSessionId"]
    assert get(world, auth_id).json()["redirectSession"]["outcome"] == {"wixMemberLoggedIn": True,
                                                                         "memberId": member.id}
    # a checkout completed by that member
    from tests.flows import submit

    checkout = make(world, {"ecomCheckout": {"checkoutId": GUID},
                            "callbacks": {"thankYouPageUrl": "https://shop.example.com/thanks"}})
    done = submit(world.client, world.client.get(path_of(checkout["fullUrl"])).text, "/flow/ecom-checkout")
    order_id = query_of(done.headers["location"])["orderId"]
    outcome = get(world, checkout["id"]).json()["redirectSession"]["outcome"]
    assert outcome["orderId"] == order_id and outcome["memberId"] == member.id
