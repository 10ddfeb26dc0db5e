"""The official JavaScript SDK inside Chromium, on another origin (SPEC §9-§11).

examples/custom-login/main.js is bundled with esbuild and served from http://localhost:<port> (the
app's allowed domain); the service runs on http://127.0.0.1:<other port>, so every SDK call is a
cross-origin fetch the browser checks against CORS. Each scenario asserts what the page shows and
what the server stored; the server records every request it sees, and a real SMTP server (aiosmtpd)
receives its email.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from headless_redirects.service.tenancy import NewTenant, create_tenant
from tests.compat.browser_site import (
    COMPAT,
    EXAMPLE,
    ClientSite,
    Inbox,
    RecordedLive,
    bundle_example,
    cli,
    client_site,
    links_in,
    recorded_live_server,
    smtp_server,
    text_of,
)
from tests.e2e.browser import chromium

SESSION_PATH = "/_api/redirects-api/v1/redirect-session"
WAIT = 15_000  # ms; the silent login loads a page in an iframe and exchanges a code


@dataclass
class Env:
    live: RecordedLive
    site: ClientSite
    inbox: Inbox
    browser: Browser
    # sites of their own for the verify-email and approval policies; the main one stays open
    verifying: NewTenant
    approving: NewTenant


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    bundle = bundle_example(tmp_path_factory.mktemp("custom-login"))
    db = tmp_path_factory.mktemp("browser-compat") / "compat.db"
    with client_site(bundle) as site, smtp_server() as (inbox, smtp_port), recorded_live_server(
        f"sqlite:///{db}", allowed_domains=["localhost"], redirect_uris=[site.page], tenant_cache_seconds=0,
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
    ) as live, chromium() as browser:
        # created before the first request: the server's CORS origin cache reloads apps at most
        # once a second, so an app created later would be honoured only about a second later
        verifying, approving = (create_tenant(live.services.store, name=name, public_url=None,
                                              allowed_domains=["localhost"], redirect_uris=[site.page])
                                for name in ("Verifying shop", "Approving shop"))
        yield Env(live, site, inbox, browser, verifying, approving)


def open_example(env: Env, *, base: str | None = None, tenant: NewTenant | None = None) -> Page:
    """The example in a fresh browser context, started (visitor tokens fetched, or failed)."""
    client_id = (tenant or env.live.tenant).client_id
    page = env.browser.new_context().new_page()
    page.goto(f"{base or env.site.url}/index.html?" + urlencode({"server": env.live.url, "clientId": client_id}))
    page.wait_for_selector("body[data-started]", state="attached", timeout=WAIT)
    return page


def started(page: Page) -> None:
    assert page.evaluate("document.body.dataset.started") == "ok", page.get_by_test_id("error").inner_text()


def tokens(page: Page, client_id: str) -> dict[str, Any]:
    return page.evaluate("(key) => JSON.parse(localStorage.getItem(key))", f"custom-login:tokens:{client_id}")


def fill_account(page: Page, email: str, password: str, nickname: str = "") -> None:
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("nickname").fill(nickname)


def idle(page: Page) -> None:
    page.wait_for_selector("body:not([data-busy])", state="attached", timeout=WAIT)


def press(page: Page, button: str) -> None:
    page.get_by_test_id(button).click()
    idle(page)


def shows(page: Page, test_id: str, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_test_id(test_id)).to_have_text(text, timeout=WAIT)


def no_error(page: Page) -> None:
    assert page.get_by_test_id("error").inner_text() == "", page.get_by_test_id("error").inner_text()


def member_logged_in(page: Page, email: str) -> None:
    shows(page, "logged-in", "true")
    shows(page, "role", "member")
    shows(page, "member-email", email)
    no_error(page)


def token_info(live: RecordedLive, token: str) -> dict[str, Any]:
    return httpx.post(f"{live.url}/oauth2/token-info", json={"token": token}).json()  # type: ignore[no-any-return]


def member_id(live: RecordedLive, site_id: str, email: str) -> str:
    member = live.services.identity.member_by_email(site_id, email)
    assert member is not None, f"no member {email} stored"
    return member.id


def log_in_on_page(env: Env, email: str, password: str) -> Page:
    page = open_example(env)
    started(page)
    fill_account(page, email, password)
    press(page, "login")
    shows(page, "login-state", "SUCCESS")
    member_logged_in(page, email)
    return page


def cors_ok(env: Env, method: str, path: str) -> None:
    """The browser made this call from the allowed origin and the server let it read the answer
    (SPEC §10): the origin echoed, never ``*`` nor credentials, Vary: Origin, the request id exposed."""
    seen = [h for h in env.live.recorder.from_origin(env.site.url) if h.path == path]
    hits = [h for h in seen if h.method == method]
    assert hits, f"the server saw no {method} {path} from {env.site.url}"
    for h in hits:
        assert h.allow_origin == env.site.url, (h.status, h.headers)
        assert "x-wix-request-id" in h.headers.get("access-control-expose-headers", "").lower(), h.headers
    for h in seen:
        assert "origin" in h.headers.get("vary", "").lower() and "access-control-allow-credentials" not in h.headers
    preflights = [h for h in seen if h.method == "OPTIONS"]
    assert preflights and all(h.status == 204 and h.allow_origin == env.site.url for h in preflights)
    assert method in preflights[-1].headers["access-control-allow-methods"]


def hosted_login(env: Env, email: str, password: str) -> Page:
    """The example page logs in through getAuthUrl and the hosted login form, and is back."""
    page = open_example(env)
    started(page)
    page.get_by_test_id("hosted-login").click()
    page.wait_for_url(f"{env.live.url}/**", timeout=WAIT)
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{env.site.page}**", timeout=WAIT)
    page.wait_for_selector("body[data-started]", state="attached", timeout=WAIT)
    return page


def test_example_pins_the_same_packages_as_the_compat_tests() -> None:
    example = json.loads((EXAMPLE / "package.json").read_text())
    compat = json.loads((COMPAT / "package.json").read_text())
    assert example["dependencies"] == {k: v for k, v in compat["dependencies"].items() if k in example["dependencies"]}
    assert set(example["dependencies"]) == {"@wix/sdk", "@wix/members", "@wix/redirects"}
    assert example["devDependencies"]["esbuild"] == compat["devDependencies"]["esbuild"]


def test_visitor_checkout_to_the_thank_you_page(env: Env) -> None:
    live, site = env.live, env.site
    page = open_example(env)
    started(page)
    shows(page, "role", "visitor")
    shows(page, "logged-in", "false")
    visitor = live.services.keys.verify(tokens(page, live.tenant.client_id)["accessToken"]["value"])
    assert visitor["sub_type"] == "VISITOR"

    checkout_id = str(uuid.uuid4())
    page.get_by_test_id("checkout-id").fill(checkout_id)
    page.get_by_test_id("buy").click()
    page.wait_for_url(f"{live.url}/flow/ecom-checkout**", timeout=WAIT)
    page.get_by_test_id("complete").click()
    page.wait_for_url(f"{site.page}?page=thank-you**", timeout=WAIT)
    page.wait_for_selector("body[data-started]", state="attached", timeout=WAIT)
    started(page)

    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert set(query) == {"page", "orderId", "wixMemberLoggedIn"} and query["wixMemberLoggedIn"] == "false"
    shows(page, "order-id", query["orderId"])
    assert site.hits("/index.html")[-1]["query"] == query

    (stored,) = [s for s in live.services.store.sessions.newest(live.tenant.site_id, 200)
                 if s.params.get("checkoutId") == checkout_id]
    assert (stored.intent, stored.state) == ("ecomCheckout", "COMPLETED")
    assert stored.creator_type == "VISITOR" and stored.creator_id == visitor["sub"]
    assert stored.callbacks["thankYouPageUrl"] == f"{site.page}?page=thank-you"
    assert stored.outcome.get("orderId") == query["orderId"]
    cors_ok(env, "POST", "/oauth2/token")
    cors_ok(env, "POST", SESSION_PATH)
    page.context.close()


def test_get_auth_url_round_trip_through_the_hosted_login(env: Env) -> None:
    live, site = env.live, env.site
    email, password = "hopper@example.com", "nanoseconds wire"
    live.services.members.create(live.tenant.site_id, email, password)
    page = hosted_login(env, email, password)
    started(page)
    assert urlsplit(page.url).fragment == ""  # the page consumed code and state

    hit = site.hits("/index.html")[-1]
    assert hit["query"] == {}  # the code came in the fragment, which never reaches the server
    access = tokens(page, live.tenant.client_id)["accessToken"]["value"]
    claims = live.services.keys.verify(access)
    assert claims["sub_type"] == "MEMBER" and claims["sub"] == member_id(live, live.tenant.site_id, email)
    member_logged_in(page, email)
    cors_ok(env, "POST", "/oauth2/token")
    page.context.close()


def test_register_then_login_with_direct_login_and_current_member(env: Env) -> None:
    live = env.live
    email, password = "lovelace@example.com", "notes on the engine"
    page = open_example(env)
    started(page)
    fill_account(page, email, password, nickname="Ada")
    press(page, "register")
    shows(page, "login-state", "SUCCESS")
    member_logged_in(page, email)
    stored = live.services.identity.member_by_email(live.tenant.site_id, email)
    assert stored is not None and stored.nickname == "Ada" and stored.status == "APPROVED"
    first = tokens(page, live.tenant.client_id)
    assert live.services.keys.verify(first["accessToken"]["value"])["sub"] == stored.id
    page.context.close()

    page = log_in_on_page(env, email, password)
    second = tokens(page, live.tenant.client_id)
    assert second["refreshToken"]["role"] == "member"
    assert live.services.keys.verify(second["accessToken"]["value"])["sub"] == stored.id
    r = httpx.get(f"{live.url}/members/v1/members/my", headers={"Authorization": second["accessToken"]["value"]})
    assert r.status_code == 200 and r.json()["member"]["loginEmail"] == email
    assert r.json()["member"]["id"] == stored.id
    for method, path in [("POST", "/_api/iam/authentication/v2/register"), ("POST", "/_api/iam/authentication/v2/login"),
                         ("POST", SESSION_PATH), ("GET", "/members/v1/members/my")]:
        cors_ok(env, method, path)
    # the silent login's iframe is navigated, not fetched: no Origin, and the page got its code
    frames = [h for h in live.recorder.hits if h.path == "/_api/oauth2/authorize" and "prompt=none" in h.query]
    assert frames and all(h.status == 200 for h in frames)
    page.context.close()


def test_password_reset_by_email(env: Env) -> None:
    live, site = env.live, env.site
    email, old, new = "turing@example.com", "imitation game", "universal machine"
    live.services.members.create(live.tenant.site_id, email, old)
    page = log_in_on_page(env, email, old)
    before = tokens(page, live.tenant.client_id)
    assert token_info(live, before["accessToken"]["value"])["active"] is True

    press(page, "forgot")
    no_error(page)
    shows(page, "notice", re.compile("link to reset"))
    mail = env.inbox.wait_for(email)
    (link,) = set(links_in(mail, live.url))
    assert live.tenant.client_id not in link  # the link carries its own token, nothing to tamper with
    page.goto(link)
    page.get_by_test_id("password").fill(new)
    confirm = page.get_by_test_id("password-confirm")
    if confirm.count():
        confirm.fill(new)
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{site.page}?page=password-changed**", timeout=WAIT)
    page.wait_for_selector("body[data-started]", state="attached", timeout=WAIT)
    started(page)
    # the page still held the member's tokens: the server now refuses them, so it is a visitor again
    shows(page, "logged-in", "false")
    shows(page, "role", "visitor")
    assert token_info(live, before["accessToken"]["value"]) == {"active": False}
    r = httpx.post(f"{live.url}/oauth2/token", json={"clientId": live.tenant.client_id, "grantType": "refresh_token",
                                                     "refreshToken": before["refreshToken"]["value"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"

    fill_account(page, email, old)
    press(page, "login")
    shows(page, "error-code", "invalidPassword")
    shows(page, "logged-in", "false")
    fill_account(page, email, new)
    press(page, "login")
    shows(page, "login-state", "SUCCESS")
    member_logged_in(page, email)

    page.goto(link)  # single use: the page no longer offers to set a password
    assert page.get_by_test_id("password").count() == 0
    cors_ok(env, "POST", "/_api/iam/recovery/v1/send-email")
    page.context.close()


def test_wrong_password_existing_email_and_invalid_email(env: Env) -> None:
    live = env.live
    email, password = "hamilton@example.com", "apollo guidance"
    live.services.members.create(live.tenant.site_id, email, password)
    page = open_example(env)
    started(page)

    fill_account(page, email, "not the password")
    press(page, "login")
    shows(page, "login-state", "FAILURE")
    shows(page, "error-code", "invalidPassword")
    shows(page, "logged-in", "false")

    fill_account(page, email, "another password")
    press(page, "register")
    shows(page, "login-state", "FAILURE")
    shows(page, "error-code", "emailAlreadyExists")

    fill_account(page, "not-an-email", "some password")
    press(page, "register")
    shows(page, "login-state", "FAILURE")
    shows(page, "error-code", "invalidEmail")

    shows(page, "role", "visitor")
    assert [m.email for m in live.services.identity.list_members(live.tenant.site_id) if m.email == email] == [email]
    assert live.services.identity.member_by_email(live.tenant.site_id, "not-an-email") is None
    page.context.close()


def test_verify_email_registration_policy(env: Env) -> None:
    live, tenant = env.live, env.verifying
    cli(live, "sites", "set", "--site-id", tenant.site_id, "--registration", "verify-email")
    email, password = "noether@example.com", "symmetry conserved"
    page = open_example(env, tenant=tenant)
    started(page)
    fill_account(page, email, password, nickname="Emmy")
    press(page, "register")
    shows(page, "login-state", "EMAIL_VERIFICATION_REQUIRED")
    no_error(page)
    expect(page.get_by_test_id("verification-form")).to_be_visible()
    shows(page, "logged-in", "false")
    stored = live.services.identity.member_by_email(tenant.site_id, email)
    assert stored is not None and stored.email_verified is False

    mail = env.inbox.wait_for(email)
    codes = re.findall(r"(?<!\d)\d{6}(?!\d)", text_of(mail))
    assert codes, text_of(mail)
    code = codes[0]
    wrong = f"{(int(code[0]) + 1) % 10}{code[1:]}"
    page.get_by_test_id("verification-code").fill(wrong)
    press(page, "verify")
    assert page.get_by_test_id("error").inner_text() != ""  # HTTP errors reject processVerification
    shows(page, "logged-in", "false")

    page.get_by_test_id("verification-code").fill(code)
    press(page, "verify")
    shows(page, "login-state", "SUCCESS")
    member_logged_in(page, email)
    stored = live.services.identity.member_by_email(tenant.site_id, email)
    assert stored is not None and stored.email_verified is True
    access = tokens(page, tenant.client_id)["accessToken"]["value"]
    assert live.services.keys.verify(access)["sub"] == stored.id
    cors_ok(env, "POST", "/_api/iam/verification/v1/auth/verify")
    page.context.close()


def test_logout_returns_to_the_client_and_refuses_the_old_token(env: Env) -> None:
    live, site = env.live, env.site
    email, password = "liskov@example.com", "substitution principle"
    live.services.members.create(live.tenant.site_id, email, password)
    page = hosted_login(env, email, password)
    shows(page, "logged-in", "true")
    member = tokens(page, live.tenant.client_id)
    assert token_info(live, member["accessToken"]["value"])["active"] is True

    page.get_by_test_id("logout").click()
    page.wait_for_url(f"{site.page}?wixMemberLoggedIn=false", timeout=WAIT)
    page.wait_for_selector("body[data-started]", state="attached", timeout=WAIT)
    started(page)
    shows(page, "logged-in", "false")
    shows(page, "role", "visitor")
    after = tokens(page, live.tenant.client_id)
    assert after["refreshToken"]["value"] != member["refreshToken"]["value"]

    r = httpx.post(f"{live.url}{SESSION_PATH}", json={"login": {}}, headers={"Authorization": member["accessToken"]["value"]})
    assert r.status_code == 401
    assert token_info(live, member["accessToken"]["value"]) == {"active": False}
    r = httpx.post(f"{live.url}/oauth2/token", json={"clientId": live.tenant.client_id, "grantType": "refresh_token",
                                                     "refreshToken": member["refreshToken"]["value"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    logouts = [s for s in live.services.store.sessions.newest(live.tenant.site_id, 200) if s.intent == "logout"]
    assert logouts and logouts[0].callbacks == {"postFlowUrl": site.page} and logouts[0].state == "COMPLETED"
    cors_ok(env, "POST", SESSION_PATH)
    page.context.close()


def test_an_origin_that_is_not_allowed_is_blocked_by_the_browser(env: Env) -> None:
    live, site = env.live, env.site
    page = open_example(env, base=site.other_url)
    assert page.evaluate("document.body.dataset.started") == "failed"
    shows(page, "error", "TypeError: Failed to fetch")
    shows(page, "role", "–")
    assert tokens(page, live.tenant.client_id) is None
    seen = live.recorder.from_origin(site.other_url)
    # at most the preflight reached the server, and it granted nothing
    assert len(seen) <= 1 and all(h.method == "OPTIONS" and not any(k.startswith("access-control-") for k in h.headers)
                                  for h in seen), seen
    page.context.close()


def test_approval_policy_then_a_blocked_member(env: Env) -> None:
    live, tenant = env.live, env.approving
    cli(live, "sites", "set", "--site-id", tenant.site_id, "--registration", "approval")
    email, password = "johnson@example.com", "orbital mechanics"
    page = open_example(env, tenant=tenant)
    started(page)
    fill_account(page, email, password)
    press(page, "register")
    shows(page, "login-state", "OWNER_APPROVAL_REQUIRED")
    shows(page, "notice", re.compile("approve"))
    shows(page, "logged-in", "false")
    press(page, "login")
    shows(page, "login-state", "OWNER_APPROVAL_REQUIRED")
    stored = live.services.identity.member_by_email(tenant.site_id, email)
    assert stored is not None and stored.status == "PENDING"

    cli(live, "members", "approve", "--member-id", stored.id)
    press(page, "login")
    shows(page, "login-state", "SUCCESS")
    member_logged_in(page, email)
    access = tokens(page, tenant.client_id)["accessToken"]["value"]

    # a blocked member's tokens fail at once: on reload the page finds itself a visitor again
    cli(live, "members", "block", "--member-id", stored.id)
    page.reload()
    page.wait_for_selector("body[data-started]", state="attached", timeout=WAIT)
    started(page)
    shows(page, "logged-in", "false")
    shows(page, "notice", re.compile("session has ended"))
    assert token_info(live, access) == {"active": False}
    fill_account(page, email, password)
    press(page, "login")
    shows(page, "login-state", "FAILURE")
    shows(page, "logged-in", "false")
    assert page.get_by_test_id("error").inner_text() != ""
    page.context.close()
