"""A redirect session as the session API and the webhooks show it (SPEC §12)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec

from ..domain.lifecycle import PUBLIC_STATES, RedirectSession
from ..domain.sessions import short_code

__all__ = ["Guid", "Instant", "SessionInfo", "public_outcome", "rfc3339", "session_info", "session_wire"]

# What a flow's outcome may tell a client backend; the rest is the hosted site's bookkeeping.
_OUTCOME_KEYS = ("orderId", "planOrderId", "orderNumber", "eventId", "memberId")

# What the JSON Schema of an answer says of its strings (``msgspec.Meta`` counts on decode and in
# the schema only: these Structs are built without validation and encoded as plain strings).
Guid = Annotated[str, msgspec.Meta(extra_json_schema={"format": "uuid"})]
Instant = Annotated[str, msgspec.Meta(description="RFC 3339, UTC", extra_json_schema={"format": "date-time"})]


class SessionInfo(msgspec.Struct, frozen=True):
    """A redirect session: its state and, once its flow ended, the outcome a client backend may see."""

    id: Guid
    intent: str
    state: Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(PUBLIC_STATES)})]
    fullUrl: str  # noqa: N815 - the wire's names
    shortUrl: str  # noqa: N815
    callbacks: dict[str, str]
    createdDate: Instant  # noqa: N815
    updatedDate: Instant  # noqa: N815
    expiresDate: Instant  # noqa: N815
    outcome: Annotated[dict[str, Any], msgspec.Meta(
        description="empty until the flow ends; then what it produced",
        extra_json_schema={"properties": {**{key: {"type": "string"} for key in _OUTCOME_KEYS},
                                          "wixMemberLoggedIn": {"type": "boolean"}}})]


def rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def public_outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {k: outcome[k] for k in _OUTCOME_KEYS if k in outcome}
    if outcome:
        shown["wixMemberLoggedIn"] = bool(outcome.get("wixMemberLoggedIn") or outcome.get("memberLoggedIn"))
    return shown


def session_info(session: RedirectSession, public_url: str, now: float | None = None) -> SessionInfo:
    now = time.time() if now is None else now
    return SessionInfo(
        id=session.id,
        intent=session.intent,
        state=session.public_state(int(now)),
        fullUrl=session.full_url,
        shortUrl=f"{public_url.rstrip('/')}/r/{short_code(session.id)}",
        callbacks=dict(session.callbacks),
        createdDate=rfc3339(session.created_at),
        updatedDate=rfc3339(session.updated_at or session.created_at),
        expiresDate=rfc3339(session.expires_at),
        outcome=public_outcome(session.outcome),
    )


def session_wire(session: RedirectSession, public_url: str, now: float | None = None) -> dict[str, Any]:
    """:func:`session_info` as a plain dict (to add fields to, as the CLI does)."""
    return msgspec.structs.asdict(session_info(session, public_url, now))
