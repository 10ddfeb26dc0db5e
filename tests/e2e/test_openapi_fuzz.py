"""The OpenAPI document fuzzed with schemathesis against a live server (SPEC §8): no input the
document allows, and none schemathesis derives from it, gets a 5xx. Callers are authenticated,
so request bodies reach validation. Bounded: a fixed number of examples per operation, loopback only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from headless_redirects.web.openapi import document
from tests.live import Live, live_server

# Hosted pages (HTML forms with CSRF tokens) are navigated to, not called: the API is fuzzed.
schema = schemathesis.openapi.from_dict(document()).exclude(
    func=lambda ctx: bool(ctx.operation.definition.raw.get("x-hosted-page")))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, str]]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    with live_server(f"sqlite:///{db}") as server:
        token = httpx.post(f"{server.url}/oauth2/token", json={"clientId": server.tenant.client_id,
                                                               "grantType": "anonymous"}).json()["access_token"]
        yield server, token


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, live: tuple[Live, str]) -> None:
    server, token = live
    if "redirect-session" in case.path or case.path.startswith(("/_api/iam/", "/members/")):
        case.headers = {**(case.headers or {}), "Authorization": token}
    response = case.call(base_url=server.url)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    assert response.headers.get("x-wix-request-id")
