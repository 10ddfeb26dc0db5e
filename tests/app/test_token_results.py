"""Typed results (issue 9): the token and identity services answer with msgspec Structs, and
``web`` writes them as the documented wire (SPEC §4, §11, ``sdk-identity-wire.md``), byte for byte
what the services' dictionaries used to be."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec

from headless_redirects.service.identity import SignOn, StateResponse
from headless_redirects.service.member_view import MemberView
from headless_redirects.service.tokens import MEMBER, TokenInfo, TokenResponse
from headless_redirects.web.identity_api import sign_on_wire, state_wire
from headless_redirects.web.oauth import token_body, token_info_wire
from tests.conftest import World

RFC6749 = ["access_token", "token_type", "expires_in", "scope"]


def _keys(body: bytes) -> list[str]:
    return list(msgspec.json.decode(body))


def test_the_grants_return_a_token_response_written_as_rfc_6749_names(world: World) -> None:
    tokens = world.services.tokens
    issued = tokens.grant({"grant_type": "anonymous", "client_id": world.tenant.client_id})
    assert isinstance(issued, TokenResponse) and issued.refresh_token
    # The same bytes as the dictionary the service used to build, in RFC 6749 §5.1's order.
    assert token_body(issued) == msgspec.json.encode({
        "access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
        "scope": "", "refresh_token": issued.refresh_token})
    refreshed = tokens.grant({"grant_type": "refresh_token", "refresh_token": issued.refresh_token})
    assert isinstance(refreshed, TokenResponse) and refreshed.refresh_token is None
    assert _keys(token_body(refreshed)) == RFC6749  # no refresh token issued: none written, not null


def test_the_endpoint_writes_the_same_keys_as_the_service_struct(world: World) -> None:
    r = world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "anonymous"})
    assert r.status_code == 200 and list(r.json()) == [*RFC6749, "refresh_token"]
    assert msgspec.json.decode(r.content, type=TokenResponse).token_type == "Bearer"


def test_token_info_is_a_struct_written_in_lower_camel_case(world: World) -> None:
    access = world.visitor()["access_token"]
    info = world.services.tokens.token_info(access)
    assert isinstance(info, TokenInfo) and info.active
    assert list(token_info_wire(info)) == ["active", "subjectType", "subjectId", "siteId", "clientId", "exp",
                                           "iat", "scope"]
    r = world.client.post("/oauth2/token-info", json={"token": access})
    assert r.json() == msgspec.json.decode(msgspec.json.encode(token_info_wire(info)))
    dead = world.services.tokens.token_info("not-a-token")
    assert dead == TokenInfo(active=False) and token_info_wire(dead) == {"active": False}


def test_identity_results_are_structs_written_as_the_sdk_reads_them(world: World) -> None:
    services = world.services
    site_id = world.tenant.site_id

    async def run() -> tuple[Any, ...]:
        api = services.identity_api
        registered = await api.register(site_id, "typed@example.com", "correct horse battery", None, None)
        signed_on = await api.sign_on(site_id, "typed@example.com", None, True)
        issuer = services.tokens.issuer
        issued = issuer.prepare(MEMBER, registered.member_id, site_id, world.tenant.client_id, "")
        caller = services.tokens.authenticate(issuer.sign(issued).access_token)
        return registered, signed_on, await api.member(caller)

    registered, signed_on, member = anyio.run(run)
    assert isinstance(registered, StateResponse) and registered.state == "SUCCESS"
    assert list(state_wire(registered)) == ["state", "sessionToken", "stateToken", "identity"]
    assert state_wire(registered)["identity"] == {"id": registered.member_id}
    assert isinstance(signed_on, SignOn) and sign_on_wire(signed_on) == {
        "sessionToken": signed_on.session_token, "identity": {"id": registered.member_id}}
    assert isinstance(member, MemberView)
    wire = msgspec.json.decode(msgspec.json.encode(member))
    assert list(wire) == ["id", "loginEmail", "loginEmailVerified", "status", "contactId", "profile",
                          "privacyStatus", "activityStatus", "createdDate", "updatedDate", "lastLoginDate"]
    assert wire["profile"] == {"nickname": "typed", "slug": "typed"} and wire["lastLoginDate"] is None
