"""Issue 9, item 6: the hosted identity pages' defects, each with the test that catches it
(SPEC §8): CSRF on cancel, session fixation, repeated authorize parameters, the identity a
session URL carries, whose login a logout link clears, rows written by cookieless visits."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from headless_redirects.storage.tables import browser_sessions
from tests.conftest import GUID, SESSION_PATH, World
from tests.identity import (
    CHALLENGE,
    EMAIL,
    PASSWORD,
    REDIRECT,
    auth_body,
    exchange,
    form_fields,
    fresh_browser,
    login_for_code,
    path_of,
    query_of,
    session_url,
    submit_login,
)


def _session_id(url: str) -> str:
    return url.split("redirectSessionId=")[1].split("&")[0]


def _state(w: World, url: str) -> str:
    session = w.services.store.sessions.get(_session_id(url))
    assert session is not None
    return session.state


def _prompt_none(w: World, client: TestClient) -> dict[str, str]:
    r = client.get(session_url(w, auth_body(w, prompt="none")), follow_redirects=False)
    assert r.status_code == 302, r.text
    return query_of(r.headers["location"])


def _member_tokens(w: World, client: TestClient) -> dict[str, str]:
    """Log ``client`` in on the hosted site through the code flow; the member's tokens."""
    r = exchange(w, login_for_code(w, client))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _active(w: World, access_token: str) -> bool:
    return bool(w.client.post("/oauth2/token-info", json={"token": access_token}).json()["active"])


# --- CSRF on cancel (SPEC §8: every state-changing POST, cancel included) ------------------------

def test_cancel_on_the_authorize_page_needs_the_csrf_token(w: World) -> None:
    url = session_url(w, auth_body(w))
    w.client.get(url)
    data = {"redirectSessionId": _session_id(url), "action": "cancel"}
    r = w.client.post("/_api/oauth2/authorize", data=data, follow_redirects=False)
    assert r.status_code == 403 and "form expired" in r.text and "location" not in r.headers
    forged = w.client.post("/_api/oauth2/authorize", data={**data, "csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and _state(w, url) == "OPENED"
    # with the page's own token, cancel works
    ok = submit_login(w.client, w.client.get(url).text, button="cancel")
    assert ok.status_code == 303 and query_of(ok.headers["location"])["error"] == "access_denied"


def test_cancel_on_the_login_intent_needs_the_csrf_token(w: World) -> None:
    url = session_url(w, {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/after"}})
    page = w.client.get(url)
    data = {**form_fields(page.text), "csrf": "forged", "action": "cancel"}
    r = w.client.post("/flow/login", data=data, follow_redirects=False)
    assert r.status_code == 403 and "location" not in r.headers and _state(w, url) == "OPENED"


# --- session fixation (SPEC §8) ------------------------------------------------------------------

def test_logging_in_issues_a_new_cookie_and_a_planted_one_stays_logged_out(w: World) -> None:
    attacker = fresh_browser(w)
    attacker.get(session_url(w, auth_body(w)))  # any landing gives the attacker a cookie value
    planted = attacker.cookies.get("hr_session")
    assert planted
    victim = fresh_browser(w)
    victim.cookies.set("hr_session", planted)
    page = victim.get(session_url(w, auth_body(w)))
    r = submit_login(victim, page.text)
    assert r.status_code == 303 and "code" in query_of(r.headers["location"])
    assert "hr_session=" in r.headers["set-cookie"]
    issued = r.headers["set-cookie"].split("hr_session=")[1].split(";")[0].strip('"')
    assert issued != planted
    # the planted value carries no login; the victim's new one does
    assert _prompt_none(w, attacker)["error"] == "login_required"
    victim.cookies.set("hr_session", issued)
    assert "code" in _prompt_none(w, victim)


def test_a_second_login_replaces_the_first_and_the_old_value_dies(w: World) -> None:
    w.services.members.create(w.tenant.site_id, "other@example.com", PASSWORD)
    _member_tokens(w, w.client)
    first = w.client.cookies.get("hr_session")
    page = w.client.get(session_url(w, auth_body(w, prompt="login")))
    r = submit_login(w.client, page.text, email="other@example.com")
    assert r.status_code == 303
    assert w.client.cookies.get("hr_session") != first
    stale = fresh_browser(w)
    stale.cookies.set("hr_session", str(first))
    assert _prompt_none(w, stale)["error"] == "login_required"


def test_logging_in_during_a_flow_keeps_the_flow_open_in_thatfresh_browser(w: World) -> None:
    """The new cookie keeps what the browser is bound to: its open sessions stay its own."""
    r = w.create({"ecomCheckout": {"checkoutId": GUID}})
    checkout = path_of(r.json()["redirectSession"]["fullUrl"])
    page = w.client.get(checkout)
    before = w.client.cookies.get("hr_session")
    other_tab = session_url(w, auth_body(w))
    assert w.client.get(other_tab).status_code == 200
    data = {**form_fields(page.text), "action": "login"}
    to_login = w.client.post("/flow/ecom-checkout", data=data, follow_redirects=False)
    back = submit_login(w.client, w.client.get(to_login.headers["location"]).text, action="/flow/sign-in")
    assert back.status_code == 303 and w.client.cookies.get("hr_session") != before
    assert EMAIL in w.client.get(back.headers["location"]).text
    assert w.client.get(other_tab).status_code == 200  # not "opened in another browser"


# --- repeated authorize parameters (RFC 6749 §3.1) -----------------------------------------------

def _hand_built(w: World, *pairs: tuple[str, str]) -> str:
    base = [("client_id", w.tenant.client_id), ("response_type", "code"), ("redirect_uri", REDIRECT),
            ("state", "s"), ("code_challenge", CHALLENGE), ("code_challenge_method", "S256")]
    return "/_api/oauth2/authorize?" + urlencode(base + list(pairs))


@pytest.mark.parametrize("repeat", [
    ("redirect_uri", "http://localhost:3000/callback"),  # also registered: which one is meant?
    ("client_id", "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"),
    ("state", "t"),
    ("code_challenge", "A" * 43),
])
def test_a_repeated_parameter_is_invalid_request_on_an_error_page(w: World, repeat: tuple[str, str]) -> None:
    r = w.client.get(_hand_built(w, repeat), follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers
    assert repeat[0] in r.text and "RFC 6749" in r.text
    assert "hr_session" not in r.headers.get("set-cookie", "")


def test_the_first_value_does_not_win_either(w: World) -> None:
    q = urlencode([("redirect_uri", REDIRECT), ("client_id", w.tenant.client_id), ("response_type", "code"),
                   ("code_challenge", CHALLENGE), ("code_challenge_method", "S256"),
                   ("redirect_uri", "https://evil.example.com/cb")])
    r = w.client.get(f"/_api/oauth2/authorize?{q}", follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers


def test_a_repeated_parameter_on_a_session_url_is_refused_and_does_not_open_it(w: World) -> None:
    url = session_url(w, auth_body(w))
    r = w.client.get(url + "&state=other&state=again", follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers and _state(w, url) == "CREATED"
    assert w.client.get(url).status_code == 200


# --- the identity a session URL carries applies to that flow only --------------------------------

def test_a_members_session_url_does_not_log_in_the_browser_that_opens_it(w: World) -> None:
    member = _member_tokens(w, fresh_browser(w))
    stranger = fresh_browser(w)
    bodies: list[dict[str, Any]] = [{"ecomCheckout": {"checkoutId": GUID}}, {"login": {}}]
    for body in bodies:
        r = w.create(body, member["access_token"])
        assert r.status_code == 200, r.text
        assert stranger.get(path_of(r.json()["redirectSession"]["fullUrl"])).status_code == 200
    # no hosted-site login: prompt=none gives no code (so no refresh token) to the stranger
    assert _prompt_none(w, stranger) == {"error": "login_required", "state": "st-1",
                                         "error_description": "no member is logged in"}


def test_the_carried_member_still_applies_to_its_own_flow(w: World) -> None:
    member = _member_tokens(w, fresh_browser(w))
    r = w.create({"ecomCheckout": {"checkoutId": GUID},
                  "callbacks": {"thankYouPageUrl": "https://shop.example.com/thanks"}}, member["access_token"])
    url = path_of(r.json()["redirectSession"]["fullUrl"])
    browser = fresh_browser(w)
    page = browser.get(url)
    assert EMAIL in page.text
    done = browser.post("/flow/ecom-checkout", data={**form_fields(page.text), "action": "complete"},
                        follow_redirects=False)
    order = w.services.orders.get(query_of(done.headers["location"])["orderId"])
    member_id = w.services.keys.verify(member["access_token"])["sub"]
    assert order is not None and order.member_id == member_id
    # and not beyond it: no maintainIdentity, no member
    r = w.create({"ecomCheckout": {"checkoutId": GUID}, "preferences": {"maintainIdentity": False}},
                 member["access_token"])
    assert EMAIL not in browser.get(path_of(r.json()["redirectSession"]["fullUrl"])).text


# --- logout: the identity behind the session, the browser's login only when it is that one -------

def _logout_url(w: World, token: str) -> str:
    body = {"logout": {"clientId": w.tenant.client_id}, "callbacks": {"postFlowUrl": "https://shop.example.com/bye"}}
    return session_url(w, body, token)


def test_someone_elses_logout_link_does_not_log_out_the_member_who_opens_it(w: World) -> None:
    member = _member_tokens(w, w.client)  # logged in on the hosted site in w.client
    visitor = w.visitor()
    r = w.client.get(_logout_url(w, visitor["access_token"]), follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "https://shop.example.com/bye?wixMemberLoggedIn=false"
    assert "Max-Age=0" not in r.headers.get("set-cookie", "")
    assert _active(w, member["access_token"])
    refreshed = w.client.post("/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "refresh_token",
                                                     "refreshToken": member["refresh_token"]})
    assert refreshed.status_code == 200
    assert "code" in _prompt_none(w, w.client)  # still logged in on the hosted site
    assert not _active(w, visitor["access_token"])  # the identity behind the link is logged out


def test_another_members_logout_link_revokes_that_member_only(w: World) -> None:
    w.services.members.create(w.tenant.site_id, "other@example.com", PASSWORD)
    mine = _member_tokens(w, w.client)
    other_browser = fresh_browser(w)
    page = other_browser.get(session_url(w, auth_body(w)))
    code = query_of(submit_login(other_browser, page.text, email="other@example.com").headers["location"])["code"]
    other = exchange(w, code).json()
    w.client.get(_logout_url(w, other["access_token"]), follow_redirects=False)
    assert not _active(w, other["access_token"]) and _active(w, mine["access_token"])
    assert "code" in _prompt_none(w, w.client)


def test_the_members_own_logout_link_clears_the_login(w: World) -> None:
    member = _member_tokens(w, w.client)
    r = w.client.get(_logout_url(w, member["access_token"]), follow_redirects=False)
    assert "Max-Age=0" in r.headers["set-cookie"] and not _active(w, member["access_token"])
    assert _prompt_none(w, w.client)["error"] == "login_required"


# --- cookieless visits write nothing -------------------------------------------------------------

def _browser_rows(w: World) -> int:
    with w.services.db.engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(browser_sessions)).scalar_one())


def test_cookieless_visits_write_no_browser_session_rows(w: World) -> None:
    urls = [session_url(w, auth_body(w)) for _ in range(3)]
    urls += [session_url(w, {"ecomCheckout": {"checkoutId": GUID}}) for _ in range(3)]
    for url in urls:
        assert fresh_browser(w).get(url).status_code == 200
    for _ in range(3):
        page = fresh_browser(w).get("/_api/oauth2/authorize?redirectSessionId=" + GUID)
        assert page.status_code == 404 and "set-cookie" not in page.headers  # nothing bound, nothing to keep
    assert _browser_rows(w) == 0
    _member_tokens(w, w.client)  # a login is something to keep
    assert _browser_rows(w) == 1
    w.client.post(SESSION_PATH, json={"login": {}}, headers={"Authorization": w.visitor()["access_token"]})
    assert _browser_rows(w) == 1
