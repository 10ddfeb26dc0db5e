"""A redirect session as the session API and the webhooks show it (SPEC §12)."""

from __future__ import annotations

import time
from typing import Any

from ..domain.sessions import RedirectSession, short_code

__all__ = ["public_outcome", "rfc3339", "session_wire"]

# What a flow's outcome may tell a client backend; the rest is the hosted site's bookkeeping.
_OUTCOME_KEYS = ("orderId", "planOrderId", "orderNumber", "eventId", "memberId")


def rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def public_outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {k: outcome[k] for k in _OUTCOME_KEYS if k in outcome}
    if outcome:
        shown["wixMemberLoggedIn"] = bool(outcome.get("wixMemberLoggedIn") or outcome.get("memberLoggedIn"))
    return shown


def session_wire(session: RedirectSession, public_url: str, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    return {
        "id": session.id,
        "intent": session.intent,
        "state": session.state_at(int(now)),
        "fullUrl": session.full_url,
        "shortUrl": f"{public_url.rstrip('/')}/r/{short_code(session.id)}",
        "callbacks": dict(session.callbacks),
        "createdDate": rfc3339(session.created_at),
        "updatedDate": rfc3339(session.updated_at or session.created_at),
        "expiresDate": rfc3339(session.expires_at),
        "outcome": public_outcome(session.outcome),
    }
