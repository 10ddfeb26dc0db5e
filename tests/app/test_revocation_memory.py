"""API keys answered from memory on the hot path (issue 12) are still honoured everywhere: a key
revoked on one instance (or by the CLI) stops on every other instance of the same database
within ``REVOCATION_SECONDS`` (under a second), with no notification (SQLite)."""

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
        self.later = 0.0  # seconds this instance's memory is moved on by
        real = self.services.tenants.clock
        self.services.tenants.clock = lambda: real() + self.later

    def create(self, **headers: str) -> int:
        return self.client.post(SESSION_PATH, json=BODY, headers=headers).status_code


@pytest.fixture
def two(sqlite_url: str) -> Iterator[tuple[Instance, Instance]]:
    a, b = Instance(sqlite_url), Instance(sqlite_url)
    yield a, b
    a.services.db.dispose()
    b.services.db.dispose()


def _key_used_by_b_then_revoked_by_a(a: Instance, b: Instance) -> dict[str, str]:
    """A site's API key that instance ``b`` has used (and so holds in memory), then revoked on
    instance ``a``, as `headless-redirects keys revoke` does; its request headers."""
    tenant = create_tenant(a.services.store, name="Shop", public_url=None, allowed_domains=ALLOWED_DOMAINS,
                           redirect_uris=REDIRECT_URIS)
    headers = {"authorization": tenant.api_key, "wix-site-id": tenant.site_id}
    assert b.create(**headers) == 200
    (key,) = a.services.store.tenancy.site_api_keys(tenant.site_id)
    assert a.services.store.tenancy.revoke_api_key(key.id, 1)
    return headers


def test_an_api_key_revoked_elsewhere_stops_within_a_second(two: tuple[Instance, Instance]) -> None:
    a, b = two
    headers = _key_used_by_b_then_revoked_by_a(a, b)
    b.later = REVOCATION_SECONDS + 0.01
    assert b.create(**headers) == 401


def test_a_change_notification_forgets_the_keys_at_once(two: tuple[Instance, Instance]) -> None:
    a, b = two
    headers = _key_used_by_b_then_revoked_by_a(a, b)
    b.services.changes.publish("api_keys")  # what PostgreSQL's trigger and LISTEN deliver
    assert b.create(**headers) == 401


def test_the_memory_is_off_with_the_tenant_cache(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url, public_url=PUBLIC_URL, tenant_cache_seconds=0))
    services: Services = app.services  # type: ignore[attr-defined]
    assert services.tenants.key_ttl == 0
    services.db.dispose()
