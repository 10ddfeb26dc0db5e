"""The authorization_code grant: every RFC 6749 §5.2 error it answers, replay revocation, and
concurrent redemption across instances (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from headless_redirects.settings import Settings
from headless_redirects.storage.tables import authorization_codes
from headless_redirects.web.app import create_app
from tests.conftest import PUBLIC_URL, World, make_world
from tests.identity import EMAIL, PASSWORD, VERIFIER, exchange, login_for_code


@pytest.fixture
def member_world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    w.services.members.create(w.tenant.site_id, EMAIL, PASSWORD)
    yield w
    w.services.db.dispose()


def _error(r: object) -> tuple[int, str]:
    return r.status_code, r.json()["error"]  # type: ignore[attr-defined]


def test_exchange_issues_member_tokens(member_world: World) -> None:
    w = member_world
    r = exchange(w, login_for_code(w))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refresh_token"] and body["scope"] == "offline_access"
    info = w.client.post("/oauth2/token-info", json={"token": body["access_token"]}).json()
    assert info["active"] and info["subjectType"] == "MEMBER"
    refreshed = w.client.post("/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "refresh_token",
                                                     "refreshToken": body["refresh_token"]})
    assert refreshed.status_code == 200
    assert w.services.keys.verify(refreshed.json()["access_token"])["sub_type"] == "MEMBER"


def test_no_refresh_token_without_offline_access(member_world: World) -> None:
    r = exchange(member_world, login_for_code(member_world, scope=None))
    assert r.status_code == 200 and "refresh_token" not in r.json()


def test_s512(member_world: World) -> None:
    from headless_redirects.domain.pkce import challenge

    code = login_for_code(member_world, codeChallenge=challenge(VERIFIER, "S512"), codeChallengeMethod="S512")
    assert exchange(member_world, code).status_code == 200


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"code": None}, (400, "invalid_request")),
    ({"clientId": None}, (400, "invalid_request")),
    ({"clientId": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"}, (401, "invalid_client")),
    ({"code": "hrc_not-a-code"}, (400, "invalid_grant")),
    ({"codeVerifier": "x" * 43}, (400, "invalid_grant")),
    ({"codeVerifier": None}, (400, "invalid_grant")),
    ({"redirectUri": "http://localhost:3000/callback"}, (400, "invalid_grant")),
    ({"redirectUri": None}, (400, "invalid_grant")),
    ({"grantType": "implicit"}, (400, "unsupported_grant_type")),
    ({"grantType": None}, (400, "invalid_request")),
])
def test_token_endpoint_errors(member_world: World, overrides: dict, expected: tuple[int, str]) -> None:  # type: ignore[type-arg]
    code = login_for_code(member_world)
    r = exchange(member_world, code, **overrides)
    assert _error(r) == expected, r.text
    assert r.headers["cache-control"] == "no-store"
    if expected[1] == "invalid_grant" and overrides.get("code") is None:
        # a failed attempt does not burn the code for its rightful owner
        assert exchange(member_world, code).status_code == 200


def test_code_of_another_client(member_world: World) -> None:
    from headless_redirects.service.tenancy import create_tenant

    other = create_tenant(member_world.services.store, name="other", public_url=None,
                          allowed_domains=["a.example"], redirect_uris=[])
    r = exchange(member_world, login_for_code(member_world), clientId=other.client_id)
    assert _error(r) == (400, "invalid_grant")


def test_expired_code(member_world: World) -> None:
    code = login_for_code(member_world)
    with member_world.services.db.engine.begin() as c:
        c.execute(sa.update(authorization_codes).values(expires_at=int(time.time()) - 1))
    assert _error(exchange(member_world, code)) == (400, "invalid_grant")


def test_replay_fails_and_revokes_what_the_first_use_issued(member_world: World) -> None:
    w = member_world
    code = login_for_code(w)
    first = exchange(w, code).json()
    assert w.client.post("/oauth2/token-info", json={"token": first["access_token"]}).json()["active"]
    replay = exchange(w, code)
    assert _error(replay) == (400, "invalid_grant")
    assert w.client.post("/oauth2/token-info", json={"token": first["access_token"]}).json() == {"active": False}
    r = w.client.post("/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "refresh_token",
                                             "refreshToken": first["refresh_token"]})
    assert _error(r) == (400, "invalid_grant")


def test_concurrent_redemption_on_two_instances_yields_one_token(member_world: World) -> None:
    w = member_world
    other_app = create_app(Settings(database_url=w.services.settings.database_url, public_url=PUBLIC_URL))
    other = TestClient(other_app)
    code = login_for_code(w)
    body = {"clientId": w.tenant.client_id, "grantType": "authorization_code", "code": code,
            "codeVerifier": VERIFIER, "redirectUri": "https://shop.example.com/callback"}
    results: list[int] = []
    barrier = threading.Barrier(4)

    def redeem(client: TestClient) -> None:
        barrier.wait()
        results.append(client.post("/oauth2/token", json=body).status_code)

    threads = [threading.Thread(target=redeem, args=(c,)) for c in (w.client, other, w.client, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other_app.services.db.dispose()  # type: ignore[attr-defined]
    assert sorted(results) == [200, 400, 400, 400]


def test_revoke_endpoint(member_world: World) -> None:
    w = member_world
    tokens = exchange(w, login_for_code(w)).json()
    assert w.client.post("/oauth2/revoke", data={"token": tokens["refresh_token"]}).status_code == 200
    r = w.client.post("/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "refresh_token",
                                             "refreshToken": tokens["refresh_token"]})
    assert _error(r) == (400, "invalid_grant")
    # the grant's access token went with it; unknown tokens are fine (RFC 7009 §2.2)
    assert w.client.post("/oauth2/token-info", json={"token": tokens["access_token"]}).json() == {"active": False}
    assert w.client.post("/oauth2/revoke", data={"token": "nonsense"}).status_code == 200
    assert _error(w.client.post("/oauth2/revoke", data={})) == (400, "invalid_request")


def test_metadata_and_jwks(member_world: World) -> None:
    meta = member_world.client.get("/.well-known/oauth-authorization-server").json()
    assert meta["code_challenge_methods_supported"] == ["S256", "S512"]
    assert meta["authorization_endpoint"] == f"{PUBLIC_URL}/_api/oauth2/authorize"
    assert "web_message" in meta["response_modes_supported"]
    assert member_world.client.get("/oauth2/jwks").json()["keys"][0]["alg"] == "ES256"


def test_logout_on_one_instance_kills_the_tokens_on_another(member_world: World) -> None:
    from tests.identity import path_of

    w = member_world
    b_app = create_app(Settings(database_url=w.services.settings.database_url, public_url=PUBLIC_URL))
    b = TestClient(b_app)
    tokens = exchange(w, login_for_code(w)).json()
    assert b.post("/oauth2/token-info", json={"token": tokens["access_token"]}).json()["active"] is True
    logout = w.create({"logout": {"clientId": w.tenant.client_id},
                       "callbacks": {"postFlowUrl": "https://shop.example.com/bye"}}, tokens["access_token"])
    assert w.client.get(path_of(logout.json()["redirectSession"]["fullUrl"]), follow_redirects=False).status_code == 302
    # instance b had verified (and cached) this token before; the revocation still reaches it,
    # within a second (SPEC §13: b may answer "not revoked" from memory until then)
    deadline = time.monotonic() + 1.0
    while (status := b.post("/_api/redirects-api/v1/redirect-session", json={"login": {}},
                            headers={"Authorization": tokens["access_token"]}).status_code) != 401:
        assert status == 200 and time.monotonic() < deadline, status
        time.sleep(0.05)
    assert b.post("/oauth2/token-info", json={"token": tokens["access_token"]}).json() == {"active": False}
    r = b.post("/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "refresh_token",
                                      "refreshToken": tokens["refresh_token"]})
    assert _error(r) == (400, "invalid_grant")
    b_app.services.db.dispose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("change", ["block", "delete"])
def test_a_code_dies_with_its_members_approval(member_world: World, change: str) -> None:
    """The member is read with the code (one statement): blocked or deleted after the code was
    issued, the code is refused, and a code of a member approved again is honoured."""
    w = member_world
    code = login_for_code(w)
    member = w.services.identity.member_by_email(w.tenant.site_id, EMAIL)
    assert member is not None
    if change == "block":
        assert w.services.identity.update_member(member.id, status="BLOCKED")
    else:
        assert w.services.identity.delete_member(member.id)
    r = exchange(w, code)
    assert _error(r) == (400, "invalid_grant") and "blocked or deleted" in r.json()["error_description"]
    if change == "block":
        w.services.identity.update_member(member.id, status="APPROVED")
        assert exchange(w, code).status_code == 200  # the refused exchange did not spend it
