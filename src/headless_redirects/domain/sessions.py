"""The redirect session and its life cycle.

    CREATED ──open()──▶ OPENED ──complete()──▶ COMPLETED
       │                  │
       │                  └──abandon()──▶ ABANDONED
       └──────────────── abandon() ─────▶ ABANDONED

    Any state but COMPLETED/ABANDONED reads as EXPIRED once ``expires_at`` has passed.

A session URL is single-use: COMPLETED and ABANDONED are final, and a final session cannot be
opened again.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "ABANDONED",
    "COMPLETED",
    "CREATED",
    "EXPIRED",
    "OPENED",
    "InvalidTransition",
    "RedirectSession",
    "new_session_id",
    "new_short_code",
]

CREATED = "CREATED"
OPENED = "OPENED"
COMPLETED = "COMPLETED"
ABANDONED = "ABANDONED"
EXPIRED = "EXPIRED"
FINAL_STATES = frozenset({COMPLETED, ABANDONED})


class InvalidTransition(Exception):
    """The session cannot move to the requested state from where it is."""


def new_session_id() -> str:
    return str(uuid.uuid4())


def new_short_code() -> str:
    """16 URL-safe characters: 96 bits of randomness (SPEC §3 asks for at least 64)."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class RedirectSession:
    id: str
    site_id: str
    client_id: str | None
    intent: str
    params: dict[str, Any]
    callbacks: dict[str, str]
    preferences: dict[str, Any]
    origin: str | None
    lang: str | None
    creator_type: str | None
    creator_id: str | None
    state: str
    created_at: int
    expires_at: int
    short_code: str
    full_url: str
    session_token_hash: str | None = None
    outcome: dict[str, Any] = field(default_factory=dict)

    def state_at(self, now: int) -> str:
        if self.state not in FINAL_STATES and now >= self.expires_at:
            return EXPIRED
        return self.state

    def open(self, now: int) -> RedirectSession:
        if self.state_at(now) not in (CREATED, OPENED):
            raise InvalidTransition(f"cannot open a session that is {self.state_at(now)}")
        return replace(self, state=OPENED)

    def complete(self, now: int, outcome: dict[str, Any]) -> RedirectSession:
        if self.state_at(now) != OPENED:
            raise InvalidTransition(f"cannot complete a session that is {self.state_at(now)}")
        return replace(self, state=COMPLETED, outcome=outcome)

    def abandon(self, now: int) -> RedirectSession:
        if self.state_at(now) not in (CREATED, OPENED):
            raise InvalidTransition(f"cannot abandon a session that is {self.state_at(now)}")
        return replace(self, state=ABANDONED)
