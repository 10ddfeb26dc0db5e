"""The ``redirects`` module's operations: create (with an idempotency key), get, list, expire.

Each is written once as an operation (see ``_core``); ``_client`` binds them sync and async.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import httpx

from ._core import RETRY_SAFE, Operation, camelize, raise_for_status
from ._intents import PARAMETER_KEYWORDS
from ._models import RedirectSession, RedirectSessionInfo, RedirectSessionsPage, SessionState

__all__ = ["SESSIONS_PATH", "SESSION_PATH", "Authenticates", "create_session_op", "expire_session_op", "get_session_op",
           "list_page_op", "list_query", "new_idempotency_key"]

SESSION_PATH = "/_api/redirects-api/v1/redirect-session"
SESSIONS_PATH = "/_api/redirects-api/v1/redirect-sessions"


class Authenticates(Protocol):
    """What an operation needs of an auth strategy (``OAuthStrategy``, ``ApiKeyStrategy``)."""

    def _op_auth_headers(self, base_url: str) -> Operation[dict[str, str]]: ...


def new_idempotency_key() -> str:
    """A fresh key for one logical create: random, so two creates never share one."""
    return str(uuid.uuid4())


def create_session_op(strategy: Authenticates, base_url: str, params: Mapping[str, Any],
                      idempotency_key: str | None = None) -> Operation[RedirectSession]:
    # The keywords come in as **params: refuse a misspelt one as a plain signature would.
    unknown = sorted(params.keys() - PARAMETER_KEYWORDS)
    if unknown:
        raise TypeError(f"create_redirect_session() got unexpected keyword arguments: {', '.join(unknown)}")
    # The key is chosen once per call; the core's retries resend this very request (same body,
    # same key), so a create whose answer was lost is answered from the first one.
    key = new_idempotency_key() if idempotency_key is None else idempotency_key
    headers = yield from strategy._op_auth_headers(base_url)
    body = camelize({k: v for k, v in params.items() if v is not None})
    response = yield httpx.Request("POST", base_url + SESSION_PATH, json=body,
                                   headers={**headers, "Idempotency-Key": key})
    return RedirectSession.from_wire(raise_for_status(response),
                                     response.headers.get("idempotent-replayed") == "true")


def _session_path(session_id: str) -> str:
    if not session_id or "/" in session_id or "?" in session_id or "#" in session_id:
        raise ValueError(f"not a redirect session id: {session_id!r}")
    return f"{SESSION_PATH}/{session_id}"


def get_session_op(strategy: Authenticates, base_url: str, session_id: str) -> Operation[RedirectSessionInfo]:
    path = _session_path(session_id)
    headers = yield from strategy._op_auth_headers(base_url)
    response = yield httpx.Request("GET", base_url + path, headers=headers)
    return RedirectSessionInfo.from_wire(raise_for_status(response)["redirectSession"])


def expire_session_op(strategy: Authenticates, base_url: str, session_id: str) -> Operation[RedirectSessionInfo]:
    path = _session_path(session_id)
    headers = yield from strategy._op_auth_headers(base_url)
    # Expiring an expired session answers it again: sending this twice does what once does.
    response = yield httpx.Request("POST", base_url + path + "/expire", headers=headers,
                                   extensions={RETRY_SAFE: True})
    return RedirectSessionInfo.from_wire(raise_for_status(response)["redirectSession"])


def list_page_op(strategy: Authenticates, base_url: str, query: dict[str, str],
                 cursor: str | None) -> Operation[RedirectSessionsPage]:
    headers = yield from strategy._op_auth_headers(base_url)
    params = {**query, "cursor": cursor} if cursor else query
    response = yield httpx.Request("GET", base_url + SESSIONS_PATH, params=params, headers=headers)
    return RedirectSessionsPage.from_wire(raise_for_status(response))


def _rfc3339(name: str, value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (e.g. datetime.now(UTC)), not a naive one")
    return value.isoformat().replace("+00:00", "Z")


def list_query(state: SessionState | str | None, intent: str | None, created_from: datetime | str | None,
               created_to: datetime | str | None, limit: int | None) -> dict[str, str]:
    """The list call's filters as query parameters (the intent as snake_case or lowerCamelCase)."""
    query: dict[str, str] = {}
    if state is not None:
        query["state"] = str(state)
    if intent is not None:
        head, *rest = intent.split("_")
        query["intent"] = head + "".join(part[:1].upper() + part[1:] for part in rest)
    if created_from is not None:
        query["createdFrom"] = _rfc3339("created_from", created_from)
    if created_to is not None:
        query["createdTo"] = _rfc3339("created_to", created_to)
    if limit is not None:
        query["limit"] = str(limit)
    return query
