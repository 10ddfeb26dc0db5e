"""Identity in a real browser (Playwright + Debian's Chromium) against a live server, each flow
ending on a local client site that records what it receives (SPEC §5, §9):

(a) the official SDK's flow: getAuthUrl (query and fragment) → login → getMemberTokens →
    loggedIn → createRedirectSession as the member → logout → the old tokens fail;
(b) prompt=none with and without a member session;
(c) web_message as the SDK's silent login builds it (a session token from the identity API),
    framed by an allowed and another origin;
(d) the login intent lands on postFlowUrl with wixMemberLoggedIn=true, keeping its own query.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import chromium, screenshot_path
from tests.e2e.clientsite import ClientSite, client_site
from tests.live import Live, live_server

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "tests" / "compat"
EMAIL, PASSWORD = "ada@example.com", "analytical engine"
CHECKOUT = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, ClientSite, Browser]]:
    if shutil.which("node") is None or not (COMPAT / "node_modules" / "@wix" / "sdk").is_dir():
        pytest.fail("the browser tests need node and `npm ci --prefix tests/compat` (the README's test command)")
    db = tmp_path_factory.mktemp("browser") / "e2e.db"
    with client_site() as site, live_server(f"sqlite:///{db}", redirect_uris=[f"{site.url}/callback"],
                                            allowed_domains=["127.0.0.1"]) as live, chromium() as browser:
        live.services.members.create(live.tenant.site_id, EMAIL, PASSWORD)
        yield live, site, browser


def sdk(live: Live, step: str, **args: Any) -> dict[str, Any]:
    done = subprocess.run(
        [shutil.which("node") or "node", "sdk_steps.mjs", step, json.dumps(args)], cwd=COMPAT,
        env={"PATH": str(Path(shutil.which("node") or "node").parent), "HR_BASE": live.url,
             "HR_CLIENT_ID": live.tenant.client_id},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def log_in(page: Page, email: str = EMAIL, password: str = PASSWORD) -> None:
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("submit").click()


def create_session(live: Live, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": token} if token else {"Authorization": live.tenant.api_key,
                                                      "wix-site-id": live.tenant.site_id}
    r = httpx.post(f"{live.url}/_api/redirects-api/v1/redirect-session", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["redirectSession"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", ["query", "fragment"])
def test_a_official_sdk_login_and_logout(env: tuple[Live, ClientSite, Browser], mode: str) -> None:
    live, site, browser = env
    start = sdk(live, "auth-url", redirectUri=f"{site.url}/callback", originalUri=f"{site.url}/",
                **({"responseMode": mode} if mode == "query" else {}))
    context = browser.new_context()
    page = context.new_page()
    page.goto(start["authUrl"])
    log_in(page)
    page.wait_for_url(f"{site.url}/callback**")
    landed = page.url
    received = urlsplit(landed).query if mode == "query" else urlsplit(landed).fragment
    assert set(parse_qs(received)) == {"code", "state"}
    if mode == "query":
        assert site.hits("/callback")[-1]["query"]["state"] == start["oauthData"]["state"]

    member = sdk(live, "member", url=landed, responseMode=mode, oauthData=start["oauthData"],
                 checkoutId=CHECKOUT, postFlowUrl=f"{site.url}/after", logoutTo=f"{site.url}/bye")
    assert member["loggedIn"] is True
    access = member["tokens"]["accessToken"]["value"]
    stored = live.services.store.sessions.get(member["session"]["_id"])
    assert stored is not None and stored.creator_type == "MEMBER"

    page.goto(member["logoutUrl"])
    page.wait_for_url(f"{site.url}/bye**")
    assert parse_qs(urlsplit(page.url).query) == {"wixMemberLoggedIn": ["false"]}
    assert "hr_session" not in {c["name"] for c in context.cookies()}

    r = httpx.post(f"{live.url}/_api/redirects-api/v1/redirect-session", json={"login": {}},
                   headers={"Authorization": access})
    assert r.status_code == 401
    assert httpx.post(f"{live.url}/oauth2/token-info", json={"token": access}).json() == {"active": False}
    r = httpx.post(f"{live.url}/oauth2/token", json={"clientId": live.tenant.client_id, "grantType": "refresh_token",
                                                     "refreshToken": member["tokens"]["refreshToken"]["value"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    context.close()


def session_token(live: Live) -> str:
    """A member session token from the identity API's login (what the SDK's auth.login returns)."""
    visitor = httpx.post(f"{live.url}/oauth2/token", json={"clientId": live.tenant.client_id,
                                                           "grantType": "anonymous"}).json()["access_token"]
    r = httpx.post(f"{live.url}/_api/iam/authentication/v2/login",
                   json={"loginId": {"email": EMAIL}, "password": PASSWORD}, headers={"Authorization": visitor})
    assert r.status_code == 200 and r.json()["state"] == "SUCCESS", r.text
    return str(r.json()["sessionToken"])


def _auth(live: Live, site: ClientSite, prompt: str) -> dict[str, Any]:
    return create_session(live, {"auth": {"authRequest": {
        "clientId": live.tenant.client_id, "responseType": "code", "redirectUri": f"{site.url}/callback",
        "state": f"state-{prompt}-{time.monotonic_ns()}", "responseMode": "query",
        "codeChallenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "codeChallengeMethod": "S256",
    }, "prompt": prompt}})


def test_b_prompt_none_without_and_with_a_member_session(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    context = browser.new_context()
    page = context.new_page()
    page.goto(_auth(live, site, "none")["fullUrl"])
    page.wait_for_url(f"{site.url}/callback**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["error"] == ["login_required"] and "code" not in query

    page.goto(_auth(live, site, "login")["fullUrl"])
    log_in(page)
    page.wait_for_url(f"{site.url}/callback**")

    session = _auth(live, site, "none")
    page.goto(session["fullUrl"])
    page.wait_for_url(f"{site.url}/callback**")
    query = parse_qs(urlsplit(page.url).query)
    assert "code" in query and query["state"] == [session["urlDetails"]["searchParams"]["state"]]
    context.close()


def test_c_web_message_to_the_allowed_embedding_origin_only(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    context = browser.new_context()
    page = context.new_page()
    page.goto(_auth(live, site, "login")["fullUrl"])
    log_in(page)
    page.wait_for_url(f"{site.url}/callback**")

    silent = sdk(live, "silent-url", sessionToken=session_token(live))
    params = parse_qs(urlsplit(silent["authUrl"]).query)
    assert params["response_mode"] == ["web_message"] and params["prompt"] == ["none"]
    assert "redirect_uri" not in params

    page.goto(f"{site.url}/frame?" + str(httpx.QueryParams({"src": silent["authUrl"]})))
    page.wait_for_function("window.__messages.length > 0", timeout=10_000)
    messages = page.evaluate("window.__messages")
    assert len(messages) == 1 and messages[0]["origin"] == live.url
    data = messages[0]["data"]
    assert set(data) == {"code", "state"} and data["state"] == silent["oauthData"]["state"]
    member = sdk(live, "member", code=data["code"], state=data["state"], oauthData=silent["oauthData"])
    assert member["loggedIn"] is True  # exchanged without a redirectUri

    other = sdk(live, "silent-url", sessionToken=session_token(live))
    evil_page = context.new_page()
    evil_page.goto(f"http://localhost:{site.port}/frame?" + str(httpx.QueryParams({"src": other["authUrl"]})))
    evil_page.wait_for_timeout(1500)
    assert evil_page.evaluate("window.__messages") == []
    # the refused frame shows Chromium's error page, never ours
    (framed,) = [f for f in evil_page.frames if f != evil_page.main_frame]
    assert framed.url.startswith("chrome-error://") or "Signing you in" not in framed.content()
    context.close()


def test_d_login_intent_lands_on_post_flow_url(env: tuple[Live, ClientSite, Browser]) -> None:
    live, site, browser = env
    session = create_session(live, {"login": {}, "callbacks": {"postFlowUrl": f"{site.url}/after?keep=1"}})
    context = browser.new_context()
    page = context.new_page()
    page.goto(session["fullUrl"])
    log_in(page)
    page.wait_for_url(f"{site.url}/after**")
    assert parse_qs(urlsplit(page.url).query) == {"keep": ["1"], "wixMemberLoggedIn": ["true"]}
    assert site.hits("/after")[-1]["query"] == {"keep": "1", "wixMemberLoggedIn": "true"}
    context.close()


@pytest.mark.parametrize("lang", ["en", "de"])
def test_login_page_screenshot(env: tuple[Live, ClientSite, Browser], lang: str) -> None:
    live, site, browser = env
    session = create_session(live, {"login": {}, "callbacks": {"postFlowUrl": f"{site.url}/after"},
                                    "preferences": {"additionalQueryParameters": {"lang": lang}}})
    context = browser.new_context(viewport={"width": 900, "height": 640})
    page = context.new_page()
    page.goto(session["fullUrl"])
    assert page.get_by_test_id("submit").inner_text() == {"en": "Log in", "de": "Anmelden"}[lang]
    page.screenshot(path=str(screenshot_path(f"login-{lang}")))
    context.close()
