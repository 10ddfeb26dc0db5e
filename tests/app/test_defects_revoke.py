"""Issue 9, item 6: ``/oauth2/revoke`` with a ``client_id`` revokes only that client's tokens
(RFC 7009 §2.1). A token of another client is answered like an unknown token (200, RFC 7009
§2.2) and nothing is revoked; an unknown ``client_id`` is ``invalid_client``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from headless_redirects.storage.tenancy import AppRow
from tests.conftest import World


@pytest.fixture
def other_client(world: World) -> str:
    """A second OAuth app of the same site."""
    client_id = str(uuid.uuid4())
    world.services.store.tenancy.insert_app(AppRow(client_id, world.tenant.site_id, "Other app", ["shop.example.com"], [],
                                           int(time.time()), updated_at=time.time_ns() // 1_000_000))
    return client_id


def _refresh(world: World, tokens: dict[str, Any]) -> int:
    r = world.client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "refresh_token",
                                                 "refreshToken": tokens["refresh_token"]})
    return r.status_code


def _active(world: World, tokens: dict[str, Any]) -> bool:
    return bool(world.client.post("/oauth2/token-info", json={"token": tokens["access_token"]}).json()["active"])


@pytest.mark.parametrize("kind", ["refresh_token", "access_token"])
def test_another_clients_token_is_not_revoked(world: World, other_client: str, kind: str) -> None:
    tokens = world.visitor()
    form = world.client.post("/oauth2/revoke", data={"token": tokens[kind], "client_id": other_client})
    as_json = world.client.post("/oauth2/revoke", json={"token": tokens[kind], "clientId": other_client})
    assert (form.status_code, form.json(), as_json.status_code) == (200, {}, 200)
    assert _active(world, tokens) and _refresh(world, tokens) == 200


@pytest.mark.parametrize("kind", ["refresh_token", "access_token"])
def test_the_clients_own_token_is_revoked(world: World, other_client: str, kind: str) -> None:
    tokens = world.visitor()
    r = world.client.post("/oauth2/revoke", json={"token": tokens[kind], "clientId": world.tenant.client_id})
    assert r.status_code == 200
    if kind == "refresh_token":
        assert _refresh(world, tokens) == 400
    else:
        assert not _active(world, tokens)


def test_an_unknown_client_is_invalid_client(world: World) -> None:
    tokens = world.visitor()
    r = world.client.post("/oauth2/revoke", data={"token": tokens["refresh_token"],
                                                  "client_id": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert _active(world, tokens) and _refresh(world, tokens) == 200
