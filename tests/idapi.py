"""Helpers for the identity API tests (SPEC §11)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from headless_redirects.service.secrets import digest, new_secret
from headless_redirects.service.tokens import SIGN_ON_SCOPE
from headless_redirects.storage.tenancy import ApiKeyRow
from tests.conftest import World

AUTHN = "/_api/iam/authentication/v2"
EMAIL, PASSWORD = "ann@example.com", "correct horse battery"


def register(world: World, email: str = EMAIL, password: str = PASSWORD, token: str | None = None, **body: Any) -> Any:
    token = token or world.visitor()["access_token"]
    return world.client.post(f"{AUTHN}/register", json={"loginId": {"email": email}, "password": password, **body},
                             headers={"Authorization": token})


def login(world: World, email: str = EMAIL, password: str = PASSWORD, token: str | None = None) -> Any:
    token = token or world.visitor()["access_token"]
    return world.client.post(f"{AUTHN}/login", json={"loginId": {"email": email}, "password": password},
                             headers={"Authorization": token})


def app_error(response: Any) -> str:
    return str(response.json()["details"]["applicationError"]["code"])


def outbox(world: World, to: str = EMAIL) -> list[Any]:
    return world.services.mailer.store.recent(50, to)


def code_from(body: str) -> str:
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def link_from(body: str) -> str:
    match = re.search(r"http://\S+/account/reset-password\?token=\S+", body)
    assert match, body
    return match.group(0)


def backend_key(world: World, scopes: list[str] | None = None, site_id: str | None = None) -> str:
    secret = new_secret("hrk_")
    world.services.store.tenancy.insert_api_key(ApiKeyRow(str(uuid.uuid4()), digest(secret), site_id or world.tenant.site_id,
                                                  "backend", scopes or [SIGN_ON_SCOPE], int(time.time()), None))
    return secret


def authorized_client(world: World, key: str, member_id: str, access_token: str = "", **extra: str) -> Any:
    body = {"grant_type": "authorized_client", "scope": "offline_access", "member_id": member_id, **extra}
    return world.client.post("/oauth2/token", json=body, headers={"Authorization": f"{access_token},{key}"})
