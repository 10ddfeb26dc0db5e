"""API keys and revocations answered from memory on the hot path (issue 12) are still honoured
everywhere: a key or token revoked on one instance (or by the CLI) stops on every other instance
of the same database within ``REVOCATION_SECONDS`` (under a second), with no notification
(SQLite); in the process that revoked it, at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
        self.services.store.tokens.clock = lambda: real() + self.later

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


# --- revocations of subjects and grants (storage.tokens), answered from memory alike ---------

def _visitor(instance: Instance) -> tuple[str, dict[str, str]]:
    """A new site's visitor token, and its request headers, used once on ``instance``."""
    tenant = create_tenant(instance.services.store, name="Shop", public_url=None, allowed_domains=ALLOWED_DOMAINS,
                           redirect_uris=REDIRECT_URIS)
    token = instance.client.post("/oauth2/token", json={"clientId": tenant.client_id, "grantType": "anonymous"})
    access = str(token.json()["access_token"])
    return access, {"authorization": access}


def _revocation_reads(instance: Instance) -> list[int]:
    """Counts the revocation reads ``instance`` makes from now on (one element, incremented)."""
    tokens = instance.services.store.tokens
    fast = tokens.fast
    real = fast.one
    reads = [0]

    def one(statement: Any, params: Any) -> Any:
        if statement in (tokens._revoked_before, tokens._revoked_before_either):
            reads[0] += 1
        return real(statement, params)

    fast.one = one  # type: ignore[method-assign]
    return reads


def test_a_revocation_is_read_once_then_answered_from_memory(two: tuple[Instance, Instance]) -> None:
    a, _ = two
    _, headers = _visitor(a)
    reads = _revocation_reads(a)
    for _ in range(5):
        assert a.create(**headers) == 200
    assert reads == [1]
    a.later = REVOCATION_SECONDS + 0.01  # its time in memory ran out: read again
    assert a.create(**headers) == 200
    assert reads == [2]


def test_a_token_revoked_in_the_process_is_refused_at_once(two: tuple[Instance, Instance]) -> None:
    a, _ = two
    access, headers = _visitor(a)
    assert a.create(**headers) == 200  # "not revoked" is in memory now
    assert a.client.post("/oauth2/revoke", json={"token": access}).status_code == 200
    assert a.create(**headers) == 401


def test_a_token_revoked_elsewhere_is_refused_within_a_second(two: tuple[Instance, Instance]) -> None:
    a, b = two
    access, headers = _visitor(a)
    assert b.create(**headers) == 200  # b holds "not revoked" in memory
    assert a.client.post("/oauth2/revoke", json={"token": access}).status_code == 200
    b.later = REVOCATION_SECONDS + 0.01
    assert b.create(**headers) == 401


def test_a_revocation_notification_forgets_at_once(two: tuple[Instance, Instance]) -> None:
    a, b = two
    access, headers = _visitor(a)
    assert b.create(**headers) == 200
    assert a.client.post("/oauth2/revoke", json={"token": access}).status_code == 200
    b.services.changes.publish("revocations")  # what PostgreSQL's trigger and LISTEN deliver
    assert b.create(**headers) == 401


def test_a_read_that_overlapped_a_change_is_not_kept(two: tuple[Instance, Instance]) -> None:
    a, _ = two
    _, headers = _visitor(a)
    reads = _revocation_reads(a)
    tokens = a.services.store.tokens
    counting = tokens.fast.one

    def one_then_a_change(statement: Any, params: Any) -> Any:
        row = counting(statement, params)
        if statement is tokens._revoked_before:
            a.services.changes.publish("revocations")  # a revocation lands while the read is under way
        return row

    tokens.fast.one = one_then_a_change  # type: ignore[method-assign]
    assert a.create(**headers) == 200
    tokens.fast.one = counting  # type: ignore[method-assign]
    assert a.create(**headers) == 200
    assert reads == [2]  # the first answer was not kept
