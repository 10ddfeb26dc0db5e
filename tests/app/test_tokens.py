"""The token service: anonymous and refresh_token grants, token-info, RFC 6749 errors."""

from __future__ import annotations

import pytest

from headless_redirects.domain.errors import Unauthenticated
from tests.conftest import World, make_world


def _token(world: World, **kwargs: object) -> object:
    return world.client.post("/oauth2/token", **kwargs)  # type: ignore[arg-type]


def test_anonymous_json_camel_case(world: World) -> None:
    r = world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "anonymous"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 14400
    assert body["access_token"].count(".") == 2 and body["refresh_token"]
    assert r.headers["cache-control"] == "no-store"
    header = world.services.keys.verify(body["access_token"])
    assert header["sub_type"] == "VISITOR" and header["site_id"] == world.tenant.site_id


def test_anonymous_json_snake_case_and_form(world: World) -> None:
    r = world.client.post("/oauth2/token", json={"client_id": world.tenant.client_id, "grant_type": "anonymous"})
    assert r.status_code == 200
    r = world.client.post("/oauth2/token", data={"client_id": world.tenant.client_id, "grant_type": "anonymous"})
    assert r.status_code == 200 and r.json()["refresh_token"]


def test_each_anonymous_grant_is_a_new_visitor(world: World) -> None:
    a, b = world.visitor(), world.visitor()
    keys = world.services.keys
    assert keys.verify(a["access_token"])["sub"] != keys.verify(b["access_token"])["sub"]


def test_refresh_keeps_the_identity_and_the_refresh_token_stays_valid(world: World) -> None:
    tokens = world.visitor()
    subject = world.services.keys.verify(tokens["access_token"])["sub"]
    for _ in range(2):  # the official SDK reuses its refresh token
        r = world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "refresh_token",
                                                     "refreshToken": tokens["refresh_token"]})
        assert r.status_code == 200, r.text
        assert world.services.keys.verify(r.json()["access_token"])["sub"] == subject
        assert "refresh_token" not in r.json()


@pytest.mark.parametrize(("payload", "status", "error"), [
    ({}, 400, "invalid_request"),
    ({"grantType": "anonymous"}, 400, "invalid_request"),
    ({"grantType": "password", "clientId": "<client>"}, 400, "unsupported_grant_type"),
    ({"grantType": "anonymous", "clientId": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"}, 401, "invalid_client"),
    ({"grantType": "anonymous", "clientId": "not-a-guid"}, 401, "invalid_client"),
    ({"grantType": "refresh_token", "clientId": "<client>"}, 400, "invalid_request"),
    ({"grantType": "refresh_token", "clientId": "<client>", "refreshToken": "hrr_nope"}, 400, "invalid_grant"),
    ({"grantType": "anonymous", "clientId": 5}, 400, "invalid_request"),
])
def test_token_errors(world: World, payload: dict, status: int, error: str) -> None:  # type: ignore[type-arg]
    payload = {k: (world.tenant.client_id if v == "<client>" else v) for k, v in payload.items()}
    r = world.client.post("/oauth2/token", json=payload)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error and r.json()["error_description"]


def test_malformed_bodies(world: World) -> None:
    r = world.client.post("/oauth2/token", content=b"{bad", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = world.client.post("/oauth2/token", content=b"grant_type=anonymous&grant_type=x",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = world.client.post("/oauth2/token", content=b"x" * 70000, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_refresh_token_of_another_client_is_invalid_grant(world: World) -> None:
    from headless_redirects.service.tenancy import create_tenant

    other = create_tenant(world.services.store, name="other", public_url=None, allowed_domains=["a.com"],
                          redirect_uris=[])
    tokens = world.visitor()
    r = world.client.post("/oauth2/token", json={"clientId": other.client_id, "grantType": "refresh_token",
                                                 "refreshToken": tokens["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_refresh_after_revocation_is_invalid_grant(world: World) -> None:
    import time

    tokens = world.visitor()
    subject = world.services.keys.verify(tokens["access_token"])["sub"]
    world.services.store.tokens.revoke(subject, int(time.time() * 1000) + 1)
    r = world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "refresh_token",
                                                 "refreshToken": tokens["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert world.client.post("/oauth2/token-info", json={"token": tokens["access_token"]}).json() == {"active": False}


def test_strict_rotation_detects_reuse(sqlite_url: str) -> None:
    w = make_world(sqlite_url, strict_refresh_rotation=True)
    first = w.visitor()["refresh_token"]
    grant = {"clientId": w.tenant.client_id, "grantType": "refresh_token"}
    r = w.client.post("/oauth2/token", json={**grant, "refreshToken": first})
    assert r.status_code == 200
    second = r.json()["refresh_token"]
    assert second != first
    reuse = w.client.post("/oauth2/token", json={**grant, "refreshToken": first})
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # the whole family died, including the token the legitimate holder had
    r = w.client.post("/oauth2/token", json={**grant, "refreshToken": second})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    w.services.db.dispose()


def test_token_info(world: World) -> None:
    tokens = world.visitor()
    info = world.client.post("/oauth2/token-info", json={"token": tokens["access_token"]}).json()
    assert info["active"] is True and info["subjectType"] == "VISITOR"
    assert info["siteId"] == world.tenant.site_id and info["clientId"] == world.tenant.client_id
    assert info["exp"] - info["iat"] == 14400
    assert world.client.post("/oauth2/token-info", json={"token": "junk"}).json() == {"active": False}
    assert world.client.post("/oauth2/token-info", json={}).status_code == 400


def test_a_tokens_identity_is_made_once_and_still_checked_each_time(world: World,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``authenticate`` keeps each token's identity (issue 12); expiry and revocation are still
    checked on every call."""
    tokens = world.services.tokens
    a, b = world.visitor()["access_token"], world.visitor()["access_token"]
    first = tokens.authenticate(a)
    assert tokens.authenticate(a) is first  # kept
    other = tokens.authenticate(b)
    assert other.subject_id != first.subject_id and other.subject_id == world.services.keys.verify(b)["sub"]
    assert (first.subject_type, first.site_id, first.client_id) == ("VISITOR", world.tenant.site_id,
                                                                    world.tenant.client_id)
    tokens.revoke_subject(other.subject_id)
    with pytest.raises(Unauthenticated, match="revoked"):
        tokens.authenticate(b)
    later = first.expires_at + 1
    monkeypatch.setattr("headless_redirects.service.keys.time.time", lambda: later)
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.authenticate(a)


def test_signing_keys_live_in_the_database(sqlite_url: str) -> None:
    """A second instance on the same database verifies the first one's tokens, and a rotated-out
    key keeps verifying what it signed."""
    a = make_world(sqlite_url)
    token = a.visitor()["access_token"]
    from starlette.testclient import TestClient

    from headless_redirects.settings import Settings
    from headless_redirects.web.app import create_app

    b_app = create_app(Settings(database_url=sqlite_url, public_url="http://127.0.0.1:8080"))
    try:
        b = TestClient(b_app)
        assert b.post("/oauth2/token-info", json={"token": token}).json()["active"] is True
        b_app.services.keys.rotate()  # type: ignore[attr-defined]
        fresh = b.post("/oauth2/token", json={"clientId": a.tenant.client_id, "grantType": "anonymous"}).json()
        # instance a has never seen the new key: it loads it from the database
        assert a.client.post("/oauth2/token-info", json={"token": fresh["access_token"]}).json()["active"] is True
        assert b.post("/oauth2/token-info", json={"token": token}).json()["active"] is True
        jwks = b.get("/oauth2/jwks").json()["keys"]
        assert len(jwks) == 2 and all(k["kty"] == "EC" and "d" not in k for k in jwks)
    finally:  # their checkpointer threads must not outlive the test
        b_app.services.db.dispose()  # type: ignore[attr-defined]
        a.services.db.dispose()


def test_refresh_tokens_issued_before_they_were_time_ordered_still_refresh_and_revoke(world: World) -> None:
    """Refresh tokens are stored under a time-ordered key now; one stored under the plain SHA-256
    digest of an earlier release keeps working until it expires or is revoked."""
    import time

    from headless_redirects.service.secrets import digest, new_secret
    from headless_redirects.storage.tokens import RefreshTokenRow

    earlier = new_secret("hrr_")
    now_ms = time.time_ns() // 1_000_000
    world.services.store.tokens.insert_refresh_token(RefreshTokenRow(
        digest(earlier), world.tenant.site_id, world.tenant.client_id, "VISITOR",
        "0f8fad5b-d9cb-469f-a165-70867728950e", "", "7c9e6679-7425-40de-944b-e07fc1f90ae7", now_ms - 1000,
        now_ms // 1000 + 3600))
    grant = {"clientId": world.tenant.client_id, "grantType": "refresh_token", "refreshToken": earlier}
    r = world.client.post("/oauth2/token", json=grant)
    assert r.status_code == 200, r.text
    assert world.services.keys.verify(r.json()["access_token"])["sub"] == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert world.client.post("/oauth2/revoke", data={"token": earlier}).status_code == 200
    r = world.client.post("/oauth2/token", json=grant)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_codes_are_stored_in_issue_order_and_earlier_codes_still_redeem(world: World) -> None:
    """Authorization codes are stored under a time-ordered key (their issue time, then their
    digest); a code stored under the plain SHA-256 digest by an earlier release still redeems."""
    import time

    from headless_redirects.domain.pkce import challenge
    from headless_redirects.service.grants.authorization_code import code_key, new_code_row
    from headless_redirects.service.secrets import digest, new_secret
    from headless_redirects.storage.identity import AuthorizationCodeRow

    member = world.services.members.create(world.tenant.site_id, "codes@example.com", "a long password")
    verifier = "v" * 43
    params = {"redirectUri": "https://shop.example.com/callback", "scope": "",
              "codeChallenge": challenge(verifier, "S256"), "codeChallengeMethod": "S256"}
    issued = []
    for _ in range(3):
        code, row = new_code_row(site_id=world.tenant.site_id, client_id=world.tenant.client_id,
                                 member_id=member.id, params=params, ttl=60)
        assert row.code_hash == code_key(code) != digest(code) and len(row.code_hash) == 64
        issued.append(row.code_hash)
        time.sleep(0.002)
    assert issued == sorted(issued)  # later codes, higher keys
    earlier = new_secret("hrc_")
    now = int(time.time())
    world.services.identity.insert_code(AuthorizationCodeRow(
        code_hash=digest(earlier), site_id=world.tenant.site_id, client_id=world.tenant.client_id,
        member_id=member.id, redirect_uri=params["redirectUri"], scope="", code_challenge=params["codeChallenge"],
        code_challenge_method="S256", nonce=None, created_at=now, expires_at=now + 60))
    assert code_key(earlier) == digest(earlier)
    world.services.identity.insert_code(row)  # the last new one
    for redeemed in (earlier, code):
        grant = {"clientId": world.tenant.client_id, "grantType": "authorization_code", "code": redeemed,
                 "codeVerifier": verifier, "redirectUri": params["redirectUri"]}
        r = world.client.post("/oauth2/token", json=grant)
        assert r.status_code == 200, r.text
        assert world.client.post("/oauth2/token", json=grant).json()["error"] == "invalid_grant"  # once only
