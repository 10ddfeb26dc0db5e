"""Member session tokens (SPEC §11): the SDK's getMemberTokensForDirectLogin — a session token
from login, given to the authorize page with prompt=none and web_message and no redirectUri —
and every way of misusing one."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from headless_redirects.service.secrets import digest
from headless_redirects.service.tenancy import create_tenant
from tests.conftest import PUBLIC_URL, World
from tests.idapi import login, register
from tests.identity import CHALLENGE, auth_body, exchange, path_of

EMBEDDER = "http://localhost:3000/account"


def direct_login(world: World, session_token: str, client: TestClient | None = None,
                 client_id: str | None = None, token: str | None = None) -> Any:
    """What the SDK does: create the auth session, then load its fullUrl in a hidden iframe."""
    body = auth_body(world, responseMode="web_message", redirectUri=None, prompt="none", sessionToken=session_token,
                     state="direct-1", clientId=client_id or world.tenant.client_id)
    r = world.create(body, token)
    assert r.status_code == 200, r.text
    session = r.json()["redirectSession"]
    assert session["urlDetails"]["endpoint"] == f"{PUBLIC_URL}/_api/oauth2/authorize"
    return (client or world.client).get(path_of(session["fullUrl"]), headers={"referer": EMBEDDER})


def message_of(page: Any) -> dict[str, str]:
    assert page.status_code == 200, page.text
    assert "frame-ancestors http://localhost:3000" in page.headers["content-security-policy"]
    assert '"http://localhost:3000"' in page.text  # posted to the embedding origin only
    data: dict[str, str] = {}
    for key in ("code", "state", "error"):
        if f'"{key}": "' in page.text:
            data[key] = page.text.split(f'"{key}": "')[1].split('"')[0]
    return data


def test_direct_login_issues_a_code_without_a_form_or_cookie(world: World) -> None:
    member_id = register(world).json()["identity"]["id"]
    session_token = login(world).json()["sessionToken"]
    fresh = TestClient(world.client.app)  # a browser that never logged in on the hosted site
    data = message_of(direct_login(world, session_token, fresh))
    assert data["state"] == "direct-1" and data["code"].startswith("hrc_")
    r = exchange(world, data["code"], redirectUri=None)  # the SDK sends no redirectUri
    assert r.status_code == 200, r.text
    claims = world.services.keys.verify(r.json()["access_token"])
    assert claims["sub"] == member_id and claims["sub_type"] == "MEMBER" and r.json()["refresh_token"]


def test_the_session_token_is_not_stored_in_plain_text(world: World) -> None:
    register(world)
    session_token = login(world).json()["sessionToken"]
    body = auth_body(world, responseMode="web_message", redirectUri=None, prompt="none", sessionToken=session_token)
    session_id = world.create(body).json()["redirectSession"]["id"]
    stored = world.services.store.sessions.get(session_id)
    assert stored is not None and session_token not in repr(stored)
    assert stored.params["sessionTokenHash"] == digest(session_token)
    assert session_token not in world.create(body).json()["redirectSession"]["fullUrl"]


def test_a_session_token_is_single_use(world: World) -> None:
    register(world)
    session_token = login(world).json()["sessionToken"]
    assert "code" in message_of(direct_login(world, session_token, TestClient(world.client.app)))
    again = message_of(direct_login(world, session_token, TestClient(world.client.app)))
    assert again["error"] == "login_required" and "code" not in again


def test_unknown_and_expired_session_tokens(world: World) -> None:
    assert message_of(direct_login(world, "hst_made-up"))["error"] == "login_required"
    register(world)
    session_token = login(world).json()["sessionToken"]
    with world.services.identity.engine.begin() as c:
        from headless_redirects.storage.tables import member_tokens

        c.execute(member_tokens.update().where(member_tokens.c.token_hash == digest(session_token))
                  .values(expires_at=int(time.time()) - 1))
    assert message_of(direct_login(world, session_token))["error"] == "login_required"


def test_another_sites_session_token_is_refused(world: World) -> None:
    register(world)
    session_token = login(world).json()["sessionToken"]
    other = create_tenant(world.services.store, name="Other", public_url=None, allowed_domains=["localhost"],
                          redirect_uris=[])
    # the other site's app (another client) asks for a code with this site's session token
    token = world.visitor(other.client_id)["access_token"]
    data = message_of(direct_login(world, session_token, client_id=other.client_id, token=token))
    assert data["error"] == "login_required"
    # and the token was not spent by the refused attempt
    assert "code" in message_of(direct_login(world, session_token))


def test_a_blocked_members_session_token_is_refused(world: World) -> None:
    member_id = register(world).json()["identity"]["id"]
    session_token = login(world).json()["sessionToken"]
    world.services.identity.update_member(member_id, status="BLOCKED")
    assert message_of(direct_login(world, session_token))["error"] == "login_required"


def test_the_code_is_bound_to_the_pkce_challenge(world: World) -> None:
    register(world)
    data = message_of(direct_login(world, login(world).json()["sessionToken"]))
    r = exchange(world, data["code"], redirectUri=None, codeVerifier="x" * 43)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert CHALLENGE  # the challenge of auth_body


def test_direct_login_logs_the_browser_in_on_the_hosted_site(world: World) -> None:
    register(world)
    browser = TestClient(world.client.app)
    message_of(direct_login(world, login(world).json()["sessionToken"], browser))
    # the same browser now gets a code from prompt=none without a token
    body = auth_body(world, responseMode="web_message", redirectUri=None, prompt="none", state="again")
    page = browser.get(path_of(world.create(body).json()["redirectSession"]["fullUrl"]),
                       headers={"referer": EMBEDDER})
    assert "code" in message_of(page)
