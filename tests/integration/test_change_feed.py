"""Caches across instances (SPEC §13): a change made elsewhere (here: through another
``Database``, as the CLI or another instance makes it) reaches a running app's caches within a
second on PostgreSQL, although their own expiry is far longer; so does a revocation (the
revocations a server answers from memory)."""

from __future__ import annotations

import time
from collections.abc import Callable

from headless_redirects.service.keys import KeyRing
from headless_redirects.storage.database import Database
from headless_redirects.storage.repository import Store
from tests.conftest import GUID, World, make_world

BODY = {"ecomCheckout": {"checkoutId": GUID}, "callbacks": {"postFlowUrl": "https://late.example.com/after"}}
BODY_ALLOWED = {"ecomCheckout": {"checkoutId": GUID}}


def _within_a_second(check: Callable[[], bool]) -> float:
    start = time.monotonic()
    while time.monotonic() - start < 1.0:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError("not seen within a second")


def _world(pg_url: str) -> World:
    world = make_world(pg_url)
    world.services.tenants.ttl = 3600  # the cache's own expiry cannot be what makes it right
    listener_up = time.monotonic() + 5
    while not world.services.changes.live and time.monotonic() < listener_up:
        time.sleep(0.02)
    assert world.services.changes.live
    return world


def test_an_app_changed_elsewhere_is_seen_within_a_second(pg_url: str) -> None:
    world = _world(pg_url)
    other = Database(pg_url)
    try:
        token = world.visitor()["access_token"]
        assert world.create(BODY, token).status_code == 400  # late.example.com is not allowed yet
        app = Store(other).tenancy.get_app(world.tenant.client_id)
        assert app is not None
        Store(other).tenancy.update_app(app.client_id, allowed_domains=[*app.allowed_domains, "late.example.com"])
        _within_a_second(lambda: world.create(BODY, token).status_code == 200)
        # and the browser rule (CORS) follows the same app
        Store(other).tenancy.update_app(app.client_id, allowed_origins=["https://spa.example.com"])
        origin = {"Origin": "https://spa.example.com", "Access-Control-Request-Method": "POST"}
        _within_a_second(lambda: world.client.options("/oauth2/token", headers=origin).headers.get(
            "access-control-allow-origin") == "https://spa.example.com")
    finally:
        other.dispose()
        world.services.db.dispose()


def test_a_key_rotated_elsewhere_is_known_within_a_second(pg_url: str) -> None:
    world = _world(pg_url)
    other = Database(pg_url)
    try:
        ring = KeyRing(Store(other).signing_keys, issuer=world.services.keys.issuer)
        kid = ring.rotate()
        _within_a_second(lambda: kid in {k["kid"] for k in world.services.keys.jwks()["keys"]})
        # and the new key signs what this instance now verifies, without a reload on the request
        token = ring.sign({"iss": ring.issuer, "sub": "x", "iat": time.time(), "exp": int(time.time()) + 60})
        assert world.services.keys.verify(token)["sub"] == "x"
    finally:
        other.dispose()
        world.services.db.dispose()


def test_the_feed_recovers_after_its_connection_is_killed(pg_url: str) -> None:
    world = _world(pg_url)
    other = Database(pg_url)
    try:
        feed = world.services.changes
        killed = feed.backend_pid
        with other.engine.begin() as c:
            c.exec_driver_sql(f"SELECT pg_terminate_backend({int(killed or 0)})")
        token = world.visitor()["access_token"]
        app = Store(other).tenancy.get_app(world.tenant.client_id)
        assert app is not None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (feed.live and feed.backend_pid != killed):
            time.sleep(0.02)
        assert feed.live and feed.backend_pid != killed
        Store(other).tenancy.update_app(app.client_id, allowed_domains=[*app.allowed_domains, "late.example.com"])
        _within_a_second(lambda: world.create(BODY, token).status_code == 200)
    finally:
        other.dispose()
        world.services.db.dispose()


def test_a_token_revoked_elsewhere_is_refused_within_a_second(pg_url: str) -> None:
    world = _world(pg_url)
    world.services.store.tokens.remember(3600)  # its own expiry cannot be what makes it right
    other = Database(pg_url)
    try:
        token = world.visitor()["access_token"]
        assert world.create(BODY_ALLOWED, token).status_code == 200  # "not revoked" is in memory now
        subject = world.services.keys.verify(token)["sub"]
        Store(other).tokens.revoke(subject, int(time.time() * 1000) + 1)  # as the CLI or another instance does
        _within_a_second(lambda: world.create(BODY_ALLOWED, token).status_code == 401)
    finally:
        other.dispose()
        world.services.db.dispose()
