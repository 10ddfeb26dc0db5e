"""Idempotency-Key on create session (SPEC §12): replay byte for byte, 422 for another body,
409 while in flight, per caller, refused requests remembered, 24 h retention."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from headless_redirects.storage.tables import idempotency_keys, redirect_sessions
from tests.conftest import GUID, SESSION_PATH, World

BODY = {"ecomCheckout": {"checkoutId": GUID}}


def post(world: World, key: str, body: Any = BODY, **headers: str) -> Any:
    auth = headers or {"Authorization": world.tenant.api_key, "wix-site-id": world.tenant.site_id}
    return world.client.post(SESSION_PATH, json=body, headers={**auth, "Idempotency-Key": key})


def sessions(world: World) -> int:
    with world.services.db.engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(redirect_sessions)).scalar_one())


def test_the_same_request_gets_the_first_answer_byte_for_byte(world: World) -> None:
    first = post(world, "order-1")
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = post(world, "order-1")
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert sessions(world) == 1
    assert post(world, "order-2").json()["redirectSession"]["id"] != first.json()["redirectSession"]["id"]


def test_another_body_with_the_same_key_is_refused(world: World) -> None:
    post(world, "k")
    r = post(world, "k", {"ecomCheckout": {"checkoutId": "11111111-1111-4111-8111-111111111111"}})
    assert r.status_code == 422
    assert r.json()["details"]["applicationError"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert sessions(world) == 1


def test_keys_are_per_caller(world: World) -> None:
    a, b = world.visitor()["access_token"], world.visitor()["access_token"]
    first = post(world, "shared", Authorization=a)
    second = post(world, "shared", Authorization=b)
    assert first.json()["redirectSession"]["id"] != second.json()["redirectSession"]["id"]
    assert "idempotent-replayed" not in second.headers


def test_in_flight_is_a_conflict_and_a_dead_request_is_taken_over(world: World) -> None:
    post(world, "probe")  # learn the key's digest from the stored row
    with world.services.db.engine.begin() as c:
        (row,) = c.execute(sa.select(idempotency_keys)).all()
        c.execute(idempotency_keys.update().values(status_code=None, response=None,
                                                   created_at=time.time_ns() // 1_000_000))
    r = post(world, "probe")
    assert r.status_code == 409 and r.json()["details"]["applicationError"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    with world.services.db.engine.begin() as c:  # the first request died a minute ago
        c.execute(idempotency_keys.update().values(created_at=time.time_ns() // 1_000_000 - 61_000))
    r = post(world, "probe")
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers and row.key_hash


def test_a_refused_request_is_refused_again_the_same_way(world: World) -> None:
    first = post(world, "bad", {"ecomCheckout": {}})
    assert first.status_code == 400
    again = post(world, "bad", {"ecomCheckout": {}})
    assert again.status_code == 400 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true" and sessions(world) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
def test_a_malformed_key_is_a_validation_error(world: World, key: str) -> None:
    r = post(world, key)
    assert r.status_code == 400
    assert r.json()["details"]["validationError"]["fieldViolations"][0]["field"] == "Idempotency-Key"
    assert sessions(world) == 0


def test_a_key_is_kept_24_hours_then_purged(world: World) -> None:
    first = post(world, "old")
    with world.services.db.engine.begin() as c:
        c.execute(idempotency_keys.update().values(expires_at=int(time.time()) - 1))
    second = post(world, "old")  # past its retention: a new request
    assert second.status_code == 200 and "idempotent-replayed" not in second.headers
    assert second.json()["redirectSession"]["id"] != first.json()["redirectSession"]["id"]
    with world.services.db.engine.begin() as c:
        c.execute(idempotency_keys.update().values(expires_at=int(time.time()) - 1))
    assert world.services.store.purge_expired(int(time.time()), 7 * 86400) >= 1
    with world.services.db.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(idempotency_keys)).scalar_one() == 0
