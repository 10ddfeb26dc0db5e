"""CORS on the API (SPEC §10): preflights, the per-app decision on actual responses, origins
derived from allowed domains plus explicit ones, and nothing on hosted pages."""

from __future__ import annotations

import time
from typing import Any

import pytest

from headless_redirects.service.tenancy import create_tenant
from tests.conftest import GUID, SESSION_PATH, World

ALLOWED = "http://localhost:3000"


def preflight(world: World, path: str, origin: str, headers: str = "authorization, content-type") -> Any:
    return world.client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": headers})


def cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.parametrize("path", ["/oauth2/token", SESSION_PATH, "/_api/iam/authentication/v2/login",
                                  "/members/v1/members/my", "/oauth2/revoke", "/oauth2/token-info"])
def test_preflight_from_an_allowed_origin(world: World, path: str) -> None:
    r = preflight(world, path, ALLOWED, "authorization, content-type, x-wix-bi-gateway, x-evil")
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert r.headers["access-control-allow-methods"] == "GET, POST"
    assert r.headers["access-control-allow-headers"] == "authorization, content-type, x-wix-bi-gateway"
    assert r.headers["access-control-max-age"] == "600"
    assert r.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in r.headers


@pytest.mark.parametrize("origin", [
    "https://evil.example.com",       # not an allowed domain
    "http://shop.example.com",        # http only for loopback hosts
    "https://pinned.example.com",     # that entry allows port 8443 only
    "https://shop.example.com.evil.com",
    "null",
])
def test_preflight_from_another_origin_gets_no_cors_headers(world: World, origin: str) -> None:
    r = preflight(world, "/oauth2/token", origin)
    assert cors_headers(r) == {}


@pytest.mark.parametrize("origin", ["https://shop.example.com", "https://shop.example.com:444",
                                    "https://pinned.example.com:8443", "http://127.0.0.1:5173"])
def test_origins_derived_from_allowed_domains(world: World, origin: str) -> None:
    assert preflight(world, "/oauth2/token", origin).headers["access-control-allow-origin"] == origin


def test_actual_token_response_for_the_apps_origin_only(world: World) -> None:
    other = create_tenant(world.services.store, name="Other", public_url=None,
                          allowed_domains=["other.example.com"], redirect_uris=[])
    body = {"clientId": world.tenant.client_id, "grantType": "anonymous"}
    r = world.client.post("/oauth2/token", json=body, headers={"Origin": ALLOWED})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert r.headers["access-control-expose-headers"] == "x-wix-request-id"
    assert r.headers["vary"] == "Origin"
    # other.example.com is allowed on the server (so its preflight passes), but not for this app
    assert preflight(world, "/oauth2/token", "https://other.example.com").status_code == 204
    r = world.client.post("/oauth2/token", json=body, headers={"Origin": "https://other.example.com"})
    assert r.status_code == 200 and cors_headers(r) == {}
    r = world.client.post("/oauth2/token", json={"clientId": other.client_id, "grantType": "anonymous"},
                          headers={"Origin": "https://other.example.com"})
    assert r.headers["access-control-allow-origin"] == "https://other.example.com"


def test_refresh_without_client_id_acts_for_the_tokens_app(world: World) -> None:
    refresh = world.visitor()["refresh_token"]
    r = world.client.post("/oauth2/token", json={"grantType": "refresh_token", "refreshToken": refresh},
                          headers={"Origin": ALLOWED})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED


def test_create_session_with_a_token_and_with_an_api_key(world: World) -> None:
    body = {"ecomCheckout": {"checkoutId": GUID}}
    r = world.create(body, Origin="https://shop.example.com")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://shop.example.com"
    r = world.client.post(SESSION_PATH, json=body, headers={
        "Authorization": world.tenant.api_key, "wix-site-id": world.tenant.site_id, "Origin": ALLOWED})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED
    # an error the browser must be able to read still carries the headers
    r = world.create({"ecomCheckout": {}}, Origin=ALLOWED)
    assert r.status_code == 400 and r.headers["access-control-allow-origin"] == ALLOWED


def test_an_explicit_origin_is_seen_within_a_second_or_two(world: World) -> None:
    origin = "https://spa.example.net"
    assert cors_headers(preflight(world, "/oauth2/token", origin)) == {}
    world.services.store.tenancy.update_app(world.tenant.client_id, allowed_origins=[origin])
    deadline = time.monotonic() + 3
    while "access-control-allow-origin" not in preflight(world, "/oauth2/token", origin).headers:
        assert time.monotonic() < deadline, "the new origin was not honoured within 3 s"
        time.sleep(0.1)
    r = world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "anonymous"},
                          headers={"Origin": origin})
    assert r.headers["access-control-allow-origin"] == origin


def test_never_a_wildcard_nor_credentials(world: World) -> None:
    for r in (preflight(world, "/oauth2/token", ALLOWED),
              world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "anonymous"},
                                headers={"Origin": ALLOWED})):
        assert r.headers["access-control-allow-origin"] != "*"
        assert "access-control-allow-credentials" not in r.headers


def test_hosted_pages_are_not_cors_resources(world: World) -> None:
    session = world.create({"login": {}, "callbacks": {"postFlowUrl": "http://localhost:3000/after"}}).json()
    path = session["redirectSession"]["fullUrl"].removeprefix("http://127.0.0.1:8080")
    r = world.client.get(path, headers={"Origin": ALLOWED})
    assert r.status_code == 200 and cors_headers(r) == {}
    r = world.client.options("/flow/login", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
    assert cors_headers(r) == {}


def test_a_request_without_origin_is_unchanged(world: World) -> None:
    r = world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "anonymous"})
    assert r.status_code == 200 and cors_headers(r) == {} and "vary" not in r.headers
