"""Revocations and API keys answered from memory on the hot path (issue 12) are still honoured
everywhere: at once on the instance that revoked, within ``REVOCATION_SECONDS`` (under a second)
on every other instance of the same database, with no notification."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from headless_redirects.service.tenancy import REVOCATION_SECONDS, create_tenant
from headless_redirects.settings import Settings
from headless_redirects.web.app import create_app
from headless_redirects.web.services import Services
from tests.conftest import ALLOWED_DOMAINS, GUID, PUBLIC_URL, REDIRECT_URIS, SESSION_PATH

BODY = {"ecomCheckout": {"checkoutId": GUID}}


class Instance:
    def __init__(self, url: str) -> None:
        app = create_app(Settings(database_url=url, public_url=PUBLIC_URL, tenant_cache_seconds=5))
        self.services: Services = app.services  # type: ignore[attr-defined]
        self.client = TestClient(app, raise_server_exceptions=False)
        self.later = 0.0  # seconds this instance's memories are moved on by
        real = self.services.tokens.revocations.clock
        self.services.tokens.revocations.clock = lambda: real() + self.later
        self.services.tenants.clock = lambda: real() + self.later

    def create(self, **headers: str) -> int:
        return self.client.post(SESSION_PATH, json=BODY, headers=headers).status_code


@pytest.fixture
def two(sqlite_url: str) -> Iterator[tuple[Instance, Instance]]:
    a, b = Instance(sqlite_url), Instance(sqlite_url)
    yield a, b
    a.services.db.dispose()
    b.services.db.dispose()


def test_a_logout_on_one_instance_is_honoured_by_the_other_within_a_second(two: tuple[Instance, Instance]) -> None:
    a, b = two
    tenant = create_tenant(a.services.store, name="Shop", public_url=None, allowed_domains=ALLOWED_DOMAINS,
                           redirect_uris=REDIRECT_URIS)
    token = a.client.post("/oauth2/token", json={"clientId": tenant.client_id, "grantType": "anonymous"}).json()
    access = token["access_token"]
    assert a.create(authorization=access) == 200 and b.create(authorization=access) == 200  # both remember it

    assert a.client.post("/oauth2/revoke", json={"token": access}).status_code == 200
    assert a.create(authorization=access) == 401  # the instance that revoked: at once
    b.later = REVOCATION_SECONDS + 0.01
    assert b.create(authorization=access) == 401  # the other: once its memory is that old


def test_a_refresh_after_a_revocation_elsewhere_fails_within_a_second(two: tuple[Instance, Instance]) -> None:
    a, b = two
    tenant = create_tenant(a.services.store, name="Shop", public_url=None, allowed_domains=ALLOWED_DOMAINS,
                           redirect_uris=REDIRECT_URIS)
    token = a.client.post("/oauth2/token", json={"clientId": tenant.client_id, "grantType": "anonymous"}).json()
    refresh = {"grantType": "refresh_token", "refreshToken": token["refresh_token"]}
    assert b.client.post("/oauth2/token", json=refresh).status_code == 200
    a.services.tokens.revoke_subject(a.services.tokens.authenticate(token["access_token"]).subject_id)
    b.later = REVOCATION_SECONDS + 0.01
    assert b.client.post("/oauth2/token", json=refresh).status_code == 400


def test_an_api_key_revoked_elsewhere_stops_within_a_second(two: tuple[Instance, Instance]) -> None:
    a, b = two
    tenant = create_tenant(a.services.store, name="Shop", public_url=None, allowed_domains=ALLOWED_DOMAINS,
                           redirect_uris=REDIRECT_URIS)
    headers = {"authorization": tenant.api_key, "wix-site-id": tenant.site_id}
    assert b.create(**headers) == 200
    (key,) = a.services.store.site_api_keys(tenant.site_id)
    assert a.services.store.revoke_api_key(key.id, 1)  # as `headless-redirects keys revoke` does
    b.later = REVOCATION_SECONDS + 0.01
    assert b.create(**headers) == 401


def test_the_memory_is_off_with_the_tenant_cache(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url, public_url=PUBLIC_URL, tenant_cache_seconds=0))
    services: Services = app.services  # type: ignore[attr-defined]
    assert services.tokens.revocations.ttl == 0 and services.tenants.key_ttl == 0
    services.db.dispose()
