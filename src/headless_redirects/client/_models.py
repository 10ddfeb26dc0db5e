"""Typed results of the client SDK."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

__all__ = ["AccessToken", "OAuthData", "RedirectSession", "RedirectSessionInfo", "RedirectSessionsPage",
           "RefreshToken", "SessionOutcome", "SessionState", "TokenRole", "Tokens", "URLDetails", "WebhookEvent"]


class TokenRole(StrEnum):
    NONE = "none"
    VISITOR = "visitor"
    MEMBER = "member"


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: int  # Unix seconds

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at < (time.time() if now is None else now)


@dataclass(frozen=True)
class RefreshToken:
    value: str
    role: TokenRole


@dataclass(frozen=True)
class Tokens:
    access_token: AccessToken
    refresh_token: RefreshToken

    @classmethod
    def empty(cls) -> Tokens:
        return cls(AccessToken("", 0), RefreshToken("", TokenRole.NONE))


@dataclass(frozen=True)
class OAuthData:
    """What ``generate_oauth_data`` makes and ``get_member_tokens`` needs back: keep it (in a
    cookie or session) between sending the visitor away and their return."""

    state: str
    code_verifier: str
    code_challenge: str
    redirect_uri: str | None = None
    original_uri: str = ""


@dataclass(frozen=True)
class URLDetails:
    endpoint: str
    search_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RedirectSession:
    id: str
    full_url: str
    url_details: URLDetails
    short_url: str | None = None
    session_token: str | None = None
    idempotent_replayed: bool = False  # the answer to an earlier request with the same Idempotency-Key

    @classmethod
    def from_wire(cls, body: dict[str, Any], idempotent_replayed: bool = False) -> RedirectSession:
        session = body["redirectSession"]
        details = session.get("urlDetails") or {}
        return cls(
            id=session["id"],
            full_url=session["fullUrl"],
            url_details=URLDetails(details.get("endpoint", ""), dict(details.get("searchParams") or {})),
            short_url=session.get("shortUrl"),
            session_token=session.get("sessionToken"),
            idempotent_replayed=idempotent_replayed,
        )


class SessionState(StrEnum):
    """Where a redirect session is: ``CREATED → OPENED → COMPLETED | ABANDONED``, or ``EXPIRED``."""

    CREATED = "CREATED"
    OPENED = "OPENED"
    COMPLETED = "COMPLETED"
    ABANDONED = "ABANDONED"
    EXPIRED = "EXPIRED"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _date(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class SessionOutcome:
    """What a finished flow produced, as the service recorded it (never read from a URL)."""

    order_id: str | None = None  # e-commerce, bookings, payment request
    plan_order_id: str | None = None  # pricing plans
    order_number: str | None = None  # events, with event_id
    event_id: str | None = None
    member_id: str | None = None  # when a member was logged in
    wix_member_logged_in: bool | None = None  # None until the flow has an outcome
    data: dict[str, Any] = field(default_factory=dict)  # the outcome as sent, including fields added later

    @classmethod
    def from_wire(cls, outcome: dict[str, Any] | None) -> SessionOutcome:
        outcome = dict(outcome or {})

        def text(key: str) -> str | None:
            value = outcome.get(key)
            return None if value is None else str(value)

        logged_in = outcome.get("wixMemberLoggedIn")
        return cls(order_id=text("orderId"), plan_order_id=text("planOrderId"), order_number=text("orderNumber"),
                   event_id=text("eventId"), member_id=text("memberId"),
                   wix_member_logged_in=None if logged_in is None else bool(logged_in), data=outcome)


@dataclass(frozen=True)
class RedirectSessionInfo:
    """A redirect session as the session API and the webhooks show it.

    ``intent`` is the intent's keyword name (``"ecom_checkout"``, as in ``create_redirect_session``);
    ``callbacks`` has snake_case keys (``"thank_you_page_url"``); dates are aware UTC datetimes."""

    id: str
    intent: str
    state: SessionState
    full_url: str
    short_url: str | None
    callbacks: dict[str, str]
    created_date: datetime
    updated_date: datetime
    expires_date: datetime
    outcome: SessionOutcome

    @classmethod
    def from_wire(cls, session: dict[str, Any]) -> RedirectSessionInfo:
        return cls(
            id=session["id"],
            intent=_snake(session["intent"]),
            state=SessionState(session["state"]),
            full_url=session["fullUrl"],
            short_url=session.get("shortUrl"),
            callbacks={_snake(k): v for k, v in (session.get("callbacks") or {}).items()},
            created_date=_date(session["createdDate"]),
            updated_date=_date(session.get("updatedDate") or session["createdDate"]),
            expires_date=_date(session["expiresDate"]),
            outcome=SessionOutcome.from_wire(session.get("outcome")),
        )


@dataclass(frozen=True)
class RedirectSessionsPage:
    """One page of ``list_redirect_sessions``, newest first; iterating it yields its sessions."""

    sessions: list[RedirectSessionInfo]
    count: int
    next_cursor: str | None  # None on the last page

    @classmethod
    def from_wire(cls, body: dict[str, Any]) -> RedirectSessionsPage:
        sessions = [RedirectSessionInfo.from_wire(s) for s in body.get("redirectSessions") or []]
        paging = body.get("pagingMetadata") or {}
        return cls(sessions, int(paging.get("count", len(sessions))), (paging.get("cursors") or {}).get("next"))

    def __iter__(self) -> Iterator[RedirectSessionInfo]:
        return iter(self.sessions)

    def __len__(self) -> int:
        return len(self.sessions)


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook delivery (``verify_webhook``).

    ``id`` is the ``webhook-id`` header: the same on every retry of one event, so it is the key
    to ignore a second delivery. ``data`` is the body's ``data`` as sent; ``redirect_session`` is
    it parsed for ``redirect_session.*`` events (else ``None``)."""

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]

    @cached_property
    def redirect_session(self) -> RedirectSessionInfo | None:
        session = self.data.get("redirectSession")
        return RedirectSessionInfo.from_wire(session) if isinstance(session, dict) else None
