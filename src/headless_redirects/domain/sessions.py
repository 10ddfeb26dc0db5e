"""The redirect session and its life cycle.

    CREATED ──open()──▶ OPENED ──complete()──▶ COMPLETED
       │                  │
       │                  └──abandon()──▶ ABANDONED
       └──────────────── abandon() ─────▶ ABANDONED

    Any state but COMPLETED/ABANDONED reads as EXPIRED once ``expires_at`` has passed;
    expire() records EXPIRED (the session API's expire call, the webhook sweeper).

A session URL is single-use: COMPLETED and ABANDONED are final, and a final session cannot be
opened again.
"""

from __future__ import annotations

import base64
import binascii
import os
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
    "new_guid",
    "new_session_id",
    "session_id_from_short_code",
    "short_code",
]

CREATED = "CREATED"
OPENED = "OPENED"
COMPLETED = "COMPLETED"
ABANDONED = "ABANDONED"
EXPIRED = "EXPIRED"
FINAL_STATES = frozenset({COMPLETED, ABANDONED, EXPIRED})


class InvalidTransition(Exception):
    """The session cannot move to the requested state from where it is."""


def new_session_id() -> str:
    return new_guid()


def new_guid() -> str:
    """A random (version 4) GUID, without the cost of building a ``uuid.UUID``."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return _format_guid(bytes(raw))


def _format_guid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def short_code(session_id: str) -> str:
    """The session's short-link code: its id's 16 bytes in 22 URL-safe characters. A v4 GUID
    carries 122 random bits (SPEC §3 asks for at least 64), and the code needs no index of its
    own: it decodes back to the primary key."""
    raw = bytes.fromhex(session_id.replace("-", ""))
    return base64.urlsafe_b64encode(raw)[:22].decode()


def session_id_from_short_code(code: str) -> str | None:
    if len(code) != 22:
        return None
    try:
        raw = base64.urlsafe_b64decode(code + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 or base64.urlsafe_b64encode(raw)[:22].decode() != code:
        return None  # non-canonical spellings of the same bytes are not links we issued
    return _format_guid(raw)


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
    full_url: str
    session_token_hash: str | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    bound_browser: str | None = None
    updated_at: int | None = None

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

    def expire(self, now: int) -> RedirectSession:
        """End a session early (the session API), or record that its time ran out (the sweeper)."""
        if self.state_at(now) in (COMPLETED, ABANDONED):
            raise InvalidTransition(f"cannot expire a session that is {self.state_at(now)}")
        return replace(self, state=EXPIRED)

    def abandon(self, now: int, outcome: dict[str, Any] | None = None) -> RedirectSession:
        if self.state_at(now) not in (CREATED, OPENED):
            raise InvalidTransition(f"cannot abandon a session that is {self.state_at(now)}")
        return replace(self, state=ABANDONED, outcome=self.outcome if outcome is None else outcome)
