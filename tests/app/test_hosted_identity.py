"""The hosted identity pages in process: landing rules, login and sign-up, CSRF, failed-login
limits, the authorize endpoint's prompts and response modes, login and logout intents,
translations."""

from __future__ import annotations

import time

import sqlalchemy as sa

from headless_redirects.storage.tables import redirect_sessions
from tests.conftest import PUBLIC_URL, SESSION_PATH, World
from tests.identity import (
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

# --- landing rules --------------------------------------------------------------------------

def test_login_page_has_the_form_controls(w: World) -> None:
    page = w.client.get(session_url(w, auth_body(w)))
    assert page.status_code == 200
    for testid in ("email", "password", "submit", "signup", "cancel"):
        assert f'data-testid="{testid}"' in page.text
    assert 'autocomplete="username"' in page.text and 'autocomplete="current-password"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"]
    assert "hr_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_unknown_session_is_a_404_page(w: World) -> None:
    r = w.client.get("/_api/oauth2/authorize?redirectSessionId=0fc930e0-5bc6-4dfe-b828-4d56c40a0c07")
    assert r.status_code == 404 and "Link not found" in r.text


def test_expired_session_page_links_back_to_post_flow_url(w: World) -> None:
    url = session_url(w, {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/back?x=1"}})
    with w.services.db.engine.begin() as c:
        c.execute(sa.update(redirect_sessions).values(expires_at=int(time.time()) - 1))
    r = w.client.get(url)
    assert r.status_code == 410 and "Link expired" in r.text
    assert 'href="https://shop.example.com/back?x=1&amp;wixMemberLoggedIn=false"' in r.text


def test_completed_session_cannot_be_replayed(w: World) -> None:
    url = session_url(w, auth_body(w))
    r = submit_login(w.client, w.client.get(url).text)
    assert r.status_code == 303
    again = w.client.get(url)
    assert again.status_code == 409 and "already used" in again.text
    # nor can the form be posted twice
    assert submit_login(w.client, w.client.get(session_url(w, auth_body(w))).text).status_code == 303


def test_second_browser_is_refused(w: World) -> None:
    url = session_url(w, auth_body(w))
    assert w.client.get(url).status_code == 200
    other = fresh_browser(w)
    r = other.get(url)
    assert r.status_code == 403 and "another browser" in r.text
    assert w.client.get(url).status_code == 200  # the first browser goes on


def test_csrf_token_is_required(w: World) -> None:
    page = w.client.get(session_url(w, auth_body(w)))
    data = {**form_fields(page.text), "csrf": "forged", "email": EMAIL, "password": PASSWORD, "action": "login"}
    r = w.client.post("/_api/oauth2/authorize", data=data, follow_redirects=False)
    assert r.status_code == 403 and "form expired" in r.text


# --- login, sign-up and limits --------------------------------------------------------------

def test_wrong_password_shows_the_form_again(w: World) -> None:
    page = w.client.get(session_url(w, auth_body(w)))
    r = submit_login(w.client, page.text, password="wrong password")
    assert r.status_code == 400 and "Wrong email or password" in r.text and 'data-testid="email"' in r.text


def test_sign_up_then_code(w: World) -> None:
    page = w.client.get(session_url(w, auth_body(w)))
    r = submit_login(w.client, page.text, email="new@example.com", password="a new password", button="signup")
    assert r.status_code == 303 and "code=" in r.headers["location"]
    other = fresh_browser(w)
    page = other.get(session_url(w, auth_body(w)))
    dup = submit_login(other, page.text, email="NEW@example.com", button="signup")
    assert dup.status_code == 400 and "already exists" in dup.text


def test_failed_logins_are_limited_per_account(w: World) -> None:
    for _ in range(5):
        browser = fresh_browser(w)
        page = browser.get(session_url(w, auth_body(w)))
        assert submit_login(browser, page.text, password="nope nope").status_code == 400
    browser = fresh_browser(w)
    page = browser.get(session_url(w, auth_body(w)))
    r = submit_login(browser, page.text)  # even the right password waits now
    assert r.status_code == 429 and "Too many failed attempts" in r.text


def test_failed_logins_are_limited_per_ip(sqlite_url: str) -> None:
    from tests.conftest import make_world

    w = make_world(sqlite_url, login_failures_per_ip=3)
    w.services.members.create(w.tenant.site_id, EMAIL, PASSWORD)
    for i in range(3):
        page = w.client.get(session_url(w, auth_body(w)))
        submit_login(w.client, page.text, email=f"nobody{i}@example.com")
    page = w.client.get(session_url(w, auth_body(w)))
    assert submit_login(w.client, page.text).status_code == 429
    w.services.db.dispose()


# --- authorize ------------------------------------------------------------------------------

def test_fragment_response_mode(w: World) -> None:
    page = w.client.get(session_url(w, auth_body(w, responseMode="fragment")))
    r = submit_login(w.client, page.text)
    location = r.headers["location"]
    assert location.startswith(REDIRECT + "#") and query_of(location, fragment=True)["state"] == "st-1"


def test_cancel_is_access_denied(w: World) -> None:
    page = w.client.get(session_url(w, auth_body(w)))
    r = submit_login(w.client, page.text, button="cancel")
    assert r.status_code == 303
    assert query_of(r.headers["location"]) == {"error": "access_denied", "state": "st-1",
                                               "error_description": "the member cancelled the login"}


def test_prompt_none_without_and_with_a_member_session(w: World) -> None:
    r = w.client.get(session_url(w, auth_body(w, prompt="none")), follow_redirects=False)
    assert r.status_code == 302 and query_of(r.headers["location"])["error"] == "login_required"
    exchange(w, login_for_code(w))  # logs this browser in on the hosted site
    r = w.client.get(session_url(w, auth_body(w, prompt="none")), follow_redirects=False)
    assert r.status_code == 302
    code = query_of(r.headers["location"])["code"]
    assert exchange(w, code).status_code == 200


def test_prompt_login_always_asks(w: World) -> None:
    login_for_code(w)
    page = w.client.get(session_url(w, auth_body(w, prompt="login")))
    assert page.status_code == 200 and 'data-testid="password"' in page.text


def test_hand_built_url_with_an_unregistered_redirect_uri_is_an_error_page(w: World) -> None:
    q = (f"client_id={w.tenant.client_id}&response_type=code&redirect_uri=https://evil.example.com/cb"
         "&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
    r = w.client.get(f"/_api/oauth2/authorize?{q}", follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers
    r = w.client.get("/_api/oauth2/authorize?client_id=0fc930e0-5bc6-4dfe-b828-4d56c40a0c07&response_type=code"
                     f"&redirect_uri={REDIRECT}", follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers


def test_hand_built_url_with_standard_parameters_works(w: World) -> None:
    q = (f"client_id={w.tenant.client_id}&response_type=code&redirect_uri={REDIRECT}&state=hb"
         "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
    page = w.client.get(f"/_api/oauth2/authorize?{q}")
    assert page.status_code == 200
    r = submit_login(w.client, page.text)
    assert query_of(r.headers["location"])["state"] == "hb"


def test_tampered_query_cannot_change_the_redirect(w: World) -> None:
    url = session_url(w, auth_body(w)).replace("shop.example.com%2Fcallback", "evil.example.com%2Fcallback")
    r = submit_login(w.client, w.client.get(url).text)
    assert r.headers["location"].startswith(REDIRECT + "?")


def test_web_message_with_a_redirect_uri_posts_to_its_origin_only(w: World) -> None:
    page = w.client.get(session_url(w, auth_body(w, responseMode="web_message")))
    r = submit_login(w.client, page.text)
    assert r.status_code == 200
    assert "frame-ancestors https://shop.example.com" in r.headers["content-security-policy"]
    assert '"https://shop.example.com"' in r.text and '"state": "st-1"' in r.text and '"code": "hrc_' in r.text


def test_web_message_without_redirect_uri_uses_an_allowed_embedding_origin(w: World) -> None:
    login_for_code(w)
    body = auth_body(w, responseMode="web_message", redirectUri=None, prompt="none")
    r = w.client.get(session_url(w, body), headers={"referer": "http://127.0.0.1:3000/account"})
    assert r.status_code == 200
    assert "frame-ancestors http://127.0.0.1:3000" in r.headers["content-security-policy"]
    code = r.text.split('"code": "')[1].split('"')[0]
    assert exchange(w, code, redirectUri=None).status_code == 200
    evil = w.client.get(session_url(w, body), headers={"referer": "https://evil.example.com/"})
    assert evil.status_code == 400 and "postMessage" not in evil.text
    assert "frame-ancestors 'none'" in evil.headers["content-security-policy"]


# --- login and logout intents ---------------------------------------------------------------

def test_login_intent_lands_on_post_flow_url(w: World) -> None:
    url = session_url(w, {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/after?x=1"}})
    r = submit_login(w.client, w.client.get(url).text, action="/flow/login")
    assert r.status_code == 303
    assert r.headers["location"] == "https://shop.example.com/after?x=1&wixMemberLoggedIn=true"


def test_login_intent_cancel(w: World) -> None:
    url = session_url(w, {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/after"}})
    r = submit_login(w.client, w.client.get(url).text, action="/flow/login", button="cancel")
    assert r.headers["location"] == "https://shop.example.com/after?wixMemberLoggedIn=false"


def test_logout_revokes_tokens_everywhere_and_clears_cookies(w: World) -> None:
    member = exchange(w, login_for_code(w)).json()
    body = {"logout": {"clientId": w.tenant.client_id}, "callbacks": {"postFlowUrl": "https://shop.example.com/bye"}}
    url = session_url(w, body, member["access_token"])
    r = w.client.get(url, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "https://shop.example.com/bye?wixMemberLoggedIn=false"
    assert 'hr_session=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    assert w.client.post(SESSION_PATH, json={"login": {}}, headers={"Authorization": member["access_token"]}).status_code == 401
    assert w.client.post("/oauth2/token-info", json={"token": member["access_token"]}).json() == {"active": False}
    refresh = w.client.post("/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "refresh_token",
                                                   "refreshToken": member["refresh_token"]})
    assert refresh.json()["error"] == "invalid_grant"
    # the hosted site no longer knows the member: prompt=none asks for a login
    r = w.client.get(session_url(w, auth_body(w, prompt="none")), follow_redirects=False)
    assert query_of(r.headers["location"])["error"] == "login_required"


def test_maintain_identity_carries_the_visitor(w: World) -> None:
    visitor = w.visitor()
    url = session_url(w, {"login": {}}, visitor["access_token"])
    w.client.get(url)
    browser = w.services.flows.browser(w.client.cookies.get("hr_session"))
    session = w.services.store.sessions.get(url.split("redirectSessionId=")[1].split("&")[0])
    assert session is not None
    # for this flow only (SPEC §8): nothing is written to the browser's hosted session
    visitor_id = w.services.keys.verify(visitor["access_token"])["sub"]
    assert w.services.flows.flow_identity(session, browser) == (visitor_id, None) and browser.row is None


# --- translations ---------------------------------------------------------------------------

def test_pages_are_translated(w: World) -> None:
    german = w.client.get(session_url(w, {**auth_body(w), "preferences": {"additionalQueryParameters": {"lang": "de"}}}))
    assert 'lang="de"' in german.text and "Anmelden" in german.text and "Passwort" in german.text
    header = w.create(auth_body(w), **{"x-wix-linguist": "de|de-de|true|0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"})
    assert "Anmelden" in fresh_browser(w).get(path_of(header.json()["redirectSession"]["fullUrl"])).text
    unknown = w.client.get(session_url(w, {**auth_body(w), "preferences": {"additionalQueryParameters": {"lang": "xx"}}}))
    assert 'lang="en"' in unknown.text and "Log in" in unknown.text
    assert "Link nicht gefunden" in w.client.get(
        "/_api/oauth2/authorize?redirectSessionId=0fc930e0-5bc6-4dfe-b828-4d56c40a0c07&lang=de").text


def test_public_url_is_used_for_the_authorize_endpoint(w: World) -> None:
    assert w.create(auth_body(w)).json()["redirectSession"]["urlDetails"]["endpoint"] == f"{PUBLIC_URL}/_api/oauth2/authorize"
