"""Helpers for identity tests: members, auth sessions, the login form, code exchange."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from tests.conftest import World

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
REDIRECT = "https://shop.example.com/callback"
EMAIL, PASSWORD = "member@example.com", "correct horse"


def auth_body(world: World, **request: Any) -> dict[str, Any]:
    prompt = request.pop("prompt", "login")
    auth_request = {"clientId": world.tenant.client_id, "responseType": "code", "redirectUri": REDIRECT,
                    "scope": "offline_access", "state": "st-1", "responseMode": "query",
                    "codeChallenge": CHALLENGE, "codeChallengeMethod": "S256", **request}
    return {"auth": {"authRequest": {k: v for k, v in auth_request.items() if v is not None}, "prompt": prompt}}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def session_url(world: World, body: dict[str, Any], token: str | None = None) -> str:
    r = world.create(body, token)
    assert r.status_code == 200, r.text
    return path_of(r.json()["redirectSession"]["fullUrl"])


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(redirectSessionId|csrf)" value="([^"]*)"', html))


def submit_login(client: TestClient, page_html: str, action: str = "/_api/oauth2/authorize", *,
                 email: str = EMAIL, password: str = PASSWORD, button: str = "login") -> Any:
    data = {**form_fields(page_html), "email": email, "password": password, "action": button}
    return client.post(action, data=data, follow_redirects=False)


def query_of(location: str, fragment: bool = False) -> dict[str, str]:
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.fragment if fragment else parts.query).items()}


def login_for_code(world: World, client: TestClient | None = None, **request: Any) -> str:
    client = client or world.client
    page = client.get(session_url(world, auth_body(world, **request)))
    r = submit_login(client, page.text)
    assert r.status_code == 303, r.text
    return query_of(r.headers["location"])["code"]


def exchange(world: World, the_code: str, **overrides: Any) -> Any:
    body = {"clientId": world.tenant.client_id, "grantType": "authorization_code", "code": the_code,
            "codeVerifier": VERIFIER, "redirectUri": REDIRECT, **overrides}
    return world.client.post("/oauth2/token", json={k: v for k, v in body.items() if v is not None})


def fresh_browser(world: World) -> TestClient:
    """Another browser: a client of the same app with no cookies."""
    return TestClient(world.client.app, raise_server_exceptions=False)
