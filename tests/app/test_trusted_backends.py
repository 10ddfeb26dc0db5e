"""Trusted backends (SPEC §11): sign-on and the authorized_client grant with an API key that
has the sign-on scope (never granted by default)."""

from __future__ import annotations

import uuid

from headless_redirects.service.tenancy import create_tenant
from tests.conftest import World
from tests.idapi import AUTHN, EMAIL, authorized_client, backend_key, register


def test_authorized_client_for_a_member(world: World) -> None:
    member_id = register(world).json()["identity"]["id"]
    r = authorized_client(world, backend_key(world), member_id)  # a fresh SDK client sends ",<API key>"
    assert r.status_code == 200, r.text
    tokens = r.json()
    claims = world.services.keys.verify(tokens["access_token"])
    assert claims["sub"] == member_id and claims["sub_type"] == "MEMBER" and claims["client_id"] == world.tenant.client_id
    assert tokens["refresh_token"].startswith("hrr_") and tokens["expires_in"] == 14400
    # the SDK refreshes member tokens without a clientId
    r = world.client.post("/oauth2/token", json={"grantType": "refresh_token", "refreshToken": tokens["refresh_token"]})
    assert r.status_code == 200 and world.services.keys.verify(r.json()["access_token"])["sub"] == member_id


def test_authorized_client_needs_the_scope_and_the_sites_member(world: World) -> None:
    member_id = register(world).json()["identity"]["id"]
    r = authorized_client(world, world.tenant.api_key, member_id)  # the default key has no sign-on scope
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    r = authorized_client(world, "hrk_unknown", member_id)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    other = create_tenant(world.services.store, name="Other", public_url=None, allowed_domains=["o.example.com"],
                          redirect_uris=[])
    r = authorized_client(world, backend_key(world, site_id=other.site_id), member_id)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = authorized_client(world, backend_key(world), str(uuid.uuid4()))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_sign_on_then_authorized_client_with_its_session_token(world: World) -> None:
    key = backend_key(world)
    visitor = world.visitor()["access_token"]
    r = world.client.post(f"{AUTHN}/sign-on", json={"loginId": {"email": "new@example.com"},
                                                    "profile": {"nickname": "Neu"}, "verifyEmail": True},
                          headers={"Authorization": f"{visitor},{key}"})
    assert r.status_code == 200, r.text
    session_token, member_id = r.json()["sessionToken"], r.json()["identity"]["id"]
    member = world.services.identity.get_member(member_id)
    assert member is not None and member.email == "new@example.com" and member.password_hash is None
    r = authorized_client(world, key, member_id, visitor, session_token=session_token)
    assert r.status_code == 200, r.text
    r = authorized_client(world, key, member_id, visitor, session_token=session_token)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"  # single use
    # sign-on of an existing member by email logs that member in
    r = world.client.post(f"{AUTHN}/sign-on", json={"loginId": {"email": "NEW@example.com"}},
                          headers={"Authorization": f",{key}"})
    assert r.json()["identity"]["id"] == member_id


def test_sign_on_needs_the_scope(world: World) -> None:
    r = world.client.post(f"{AUTHN}/sign-on", json={"loginId": {"email": EMAIL}},
                          headers={"Authorization": f",{world.tenant.api_key}"})
    assert r.status_code == 403 and r.json()["details"]["applicationError"]["code"] == "PERMISSION_DENIED"
    r = world.client.post(f"{AUTHN}/sign-on", json={"loginId": {"email": EMAIL}}, headers={"Authorization": ",hrk_x"})
    assert r.status_code == 401 and r.json()["details"]["applicationError"]["code"] == "UNAUTHENTICATED"
    assert world.services.identity.member_by_email(world.tenant.site_id, EMAIL) is None
