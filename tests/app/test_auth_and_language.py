"""Caller authentication (SPEC §3) and the x-wix-linguist rule."""

from __future__ import annotations

import time

import pytest

from headless_redirects.service import create_session
from headless_redirects.service.secrets import digest
from headless_redirects.storage.tenancy import ApiKeyRow
from tests.conftest import GUID, SESSION_PATH, World

BODY = {"ecomCheckout": {"checkoutId": GUID}}
LINGUIST = "de|de-de|true|0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"


def _code(r: object) -> str:
    return r.json()["details"]["applicationError"]["code"]  # type: ignore[attr-defined, no-any-return]


def test_raw_and_bearer_tokens_are_accepted(world: World) -> None:
    token = world.visitor()["access_token"]
    assert world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": token}).status_code == 200
    assert world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_no_header_is_401(world: World) -> None:
    r = world.client.post(SESSION_PATH, json=BODY)
    assert r.status_code == 401 and _code(r) == "UNAUTHENTICATED"
    assert r.headers["x-wix-request-id"]


@pytest.mark.parametrize("value", ["garbage", "a.b.c", "Bearer ", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_bad_token_is_401(world: World, value: str) -> None:
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": value})
    assert r.status_code == 401 and _code(r) == "UNAUTHENTICATED"


def test_tampered_token_is_401(world: World) -> None:
    token = world.visitor()["access_token"]
    head, payload, sig = token.split(".")
    forged = f"{head}.{payload[:-2]}AA.{sig}"
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": forged})
    assert r.status_code == 401


def test_expired_token_is_401(world: World) -> None:
    token = world.visitor()["access_token"]
    claims = world.services.keys.verify(token)
    expired = world.services.keys.sign({**claims, "iat": time.time() - 100, "exp": int(time.time()) - 1})
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": expired})
    assert r.status_code == 401 and _code(r) == "UNAUTHENTICATED"
    assert "expired" in r.json()["message"]


def test_token_of_a_revoked_subject_is_401(world: World) -> None:
    token = world.visitor()["access_token"]
    subject = world.services.keys.verify(token)["sub"]
    world.services.store.tokens.revoke(subject, int(time.time() * 1000) + 1)
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": token})
    assert r.status_code == 401


def test_api_key_with_site_id(world: World) -> None:
    t = world.tenant
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": t.api_key, "wix-site-id": t.site_id})
    assert r.status_code == 200, r.text
    assert "sessionToken" not in r.json()["redirectSession"]  # no visitor identity to carry
    r = world.client.post(SESSION_PATH, json=BODY,
                          headers={"Authorization": f"Bearer {t.api_key}", "wix-site-id": t.site_id})
    assert r.status_code == 200


def test_api_key_callbacks_are_checked_against_the_sites_apps(world: World) -> None:
    t = world.tenant
    headers = {"Authorization": t.api_key, "wix-site-id": t.site_id}
    ok = world.client.post(SESSION_PATH, headers=headers,
                           json={**BODY, "callbacks": {"postFlowUrl": "https://shop.example.com/"}})
    assert ok.status_code == 200
    bad = world.client.post(SESSION_PATH, headers=headers,
                            json={**BODY, "callbacks": {"postFlowUrl": "https://evil.example.com/"}})
    assert bad.status_code == 400


def test_unknown_api_key_is_401(world: World) -> None:
    r = world.client.post(SESSION_PATH, json=BODY,
                          headers={"Authorization": "hrk_unknown", "wix-site-id": world.tenant.site_id})
    assert r.status_code == 401 and _code(r) == "UNAUTHENTICATED"


def test_api_key_without_site_id_is_401(world: World) -> None:
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": world.tenant.api_key})
    assert r.status_code == 401


def test_api_key_with_unknown_site_id_is_403(world: World) -> None:
    r = world.client.post(SESSION_PATH, json=BODY,
                          headers={"Authorization": world.tenant.api_key, "wix-site-id": GUID})
    assert r.status_code == 403 and _code(r) == "PERMISSION_DENIED"


def test_api_key_without_the_scope_is_403(world: World) -> None:
    world.services.store.tenancy.insert_api_key(ApiKeyRow(
        id="11111111-1111-4111-8111-111111111111", key_hash=digest("hrk_noscope"),
        site_id=world.tenant.site_id, name="no scope", scopes=["SCOPE.OTHER"],
        created_at=int(time.time()), revoked_at=None,
    ))
    r = world.client.post(SESSION_PATH, json=BODY,
                          headers={"Authorization": "hrk_noscope", "wix-site-id": world.tenant.site_id})
    assert r.status_code == 403 and _code(r) == "PERMISSION_DENIED"


def test_revoked_api_key_is_401(world: World) -> None:
    key = world.services.store.tenancy.site_api_keys(world.tenant.site_id)[0]
    assert world.services.store.tenancy.revoke_api_key(key.id, int(time.time()))
    r = world.client.post(SESSION_PATH, json=BODY,
                          headers={"Authorization": world.tenant.api_key, "wix-site-id": world.tenant.site_id})
    assert r.status_code == 401


def test_unauthenticated_callers_learn_nothing_about_the_body(world: World) -> None:
    r = world.client.post(SESSION_PATH, content=b"{bad json", headers={"content-type": "application/json"})
    assert r.status_code == 401


def _params(world: World, body: dict, **headers: str) -> dict:  # type: ignore[type-arg]
    r = world.create(body, **headers)
    assert r.status_code == 200, r.text
    return r.json()["redirectSession"]["urlDetails"]["searchParams"]  # type: ignore[no-any-return]


def test_language_from_header_only(world: World) -> None:
    assert _params(world, BODY, **{"x-wix-linguist": LINGUIST})["lang"] == "de"


def test_explicit_lang_wins_over_the_header(world: World) -> None:
    body = {**BODY, "preferences": {"additionalQueryParameters": {"lang": "fr"}}}
    assert _params(world, body, **{"x-wix-linguist": LINGUIST})["lang"] == "fr"


@pytest.mark.parametrize("header", ["de", "de|de-de", "de|de-de|maybe|0fc930e0-5bc6-4dfe-b828-4d56c40a0c07",
                                    "|de-de|true|0fc930e0-5bc6-4dfe-b828-4d56c40a0c07",
                                    "de|de-de|true|not-a-guid", "de<script>|de|true|x"])
def test_malformed_header_is_ignored(world: World, header: str) -> None:
    assert "lang" not in _params(world, BODY, **{"x-wix-linguist": header})


def test_no_header_no_lang(world: World) -> None:
    assert "lang" not in _params(world, BODY)


def test_a_token_has_its_shape_tested_once_and_is_still_verified_each_time(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token that had the JWT shape and authenticated is known by that shape afterwards (issue
    12: the pattern cost a create ~14,500 instructions); it is still verified and checked for
    revocation on every call, only that very string is known, and junk of the right shape that
    fails is not kept."""
    tested: list[str] = []
    shape = create_session._JWT_SHAPE

    class Counted:
        def match(self, value: str) -> object:
            tested.append(value)
            return shape.match(value)

    monkeypatch.setattr(create_session, "_JWT_SHAPE", Counted())
    token = world.visitor()["access_token"]
    for _ in range(3):
        assert world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": token}).status_code == 200
    assert tested == [token]
    # Not the same string: tested, and refused as before (an API key's answer).
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": token + "="})
    assert r.status_code == 401 and tested[-1] == token + "="
    junk = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    assert world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": junk}).status_code == 401
    assert junk not in world.services.sessions._shaped
    # Known, yet revoked: refused.
    world.services.tokens.revoke_subject(world.services.keys.verify(token)["sub"])
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": token})
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    assert tested.count(token) == 1
    t = world.tenant  # API keys are unaffected
    r = world.client.post(SESSION_PATH, json=BODY, headers={"Authorization": t.api_key, "wix-site-id": t.site_id})
    assert r.status_code == 200


def test_known_shapes_are_bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(create_session, "SHAPED_KEPT", 2)
    sessions = world.services.sessions
    tokens = [world.visitor()["access_token"] for _ in range(3)]
    for token in tokens:
        sessions.authenticate(token, None)
    assert sessions._shaped == {tokens[2]}  # full at the third: emptied, then that one kept
