"""The redirect session and its life cycle: every state change is one of these transitions.

    CREATED ──open(browser)──▶ OPENED ──complete()─────────────────────────────▶ COMPLETED
       │                        │  ▲                                                  ▲
       │                        │  └──────── order_failed() ─────┐                    │
       │                        └── request_order() ──▶ ORDERING ─┴── order_placed() ─┘
       │                        └── abandon() ──▶ ABANDONED
       └──────── abandon() ────────────────────▶ ABANDONED

    CREATED and OPENED read as EXPIRED once ``expires_at`` has passed; expire() records EXPIRED
    (the session API's expire call, the webhook sweeper).

ORDERING is the checkout's "order requested, not yet placed": the flow provider is placing the
order. It is not a state of the public contract (SPEC §12 shows it as OPENED, see
:meth:`RedirectSession.public_state`), but it has to be one here: the session must not be
COMPLETED before its order exists (a provider failure would leave a completed session and no
order), nor OPENED (a second submission of the form would place a second order). The provider's
answer moves it on: ``order_placed`` (COMPLETED, with the order in the outcome) or
``order_failed`` (OPENED again: the visitor may try once more). An order that was requested is
always recorded when it is placed, even if the session's time ran out meanwhile. An order with no
answer for ``stalled_after`` seconds (the process placing it died) is *stalled*: its browser may
open the session again and request the order once more (providers are idempotent per session).

Every transition returns a new session with ``version`` one higher; storage writes it only if the
stored session is still at the version (and state) it left (a compare-and-set), so two requests
that race on one session never both win. A session URL is single-use: COMPLETED, ABANDONED and
EXPIRED are final.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "ABANDONED",
    "COMPLETED",
    "CREATED",
    "EXPIRED",
    "OPENED",
    "ORDERING",
    "PUBLIC_STATES",
    "BoundElsewhere",
    "InvalidTransition",
    "RedirectSession",
    "reported_change",
]

CREATED = "CREATED"
OPENED = "OPENED"
ORDERING = "ORDERING"
COMPLETED = "COMPLETED"
ABANDONED = "ABANDONED"
EXPIRED = "EXPIRED"
# The states the session API and the webhooks show (SPEC §12).
PUBLIC_STATES = (CREATED, OPENED, COMPLETED, ABANDONED, EXPIRED)


class InvalidTransition(Exception):
    """The session cannot move to the requested state from where it is."""


class BoundElsewhere(InvalidTransition):
    """Another browser opened the session first; only that one may continue it."""


class RedirectSession(msgspec.Struct, frozen=True):
    """A session as stored; immutable (each transition makes a new one). A struct rather than a
    frozen dataclass, as are the other objects made on every create or token request (the
    request, its preferences, the caller; a grant's ``Issued``, a token's ``Identity``): made in
    C, where a frozen dataclass's ``__init__`` sets each field with ``object.__setattr__``
    (measured, this one's 20 fields: 0.5-1.0 µs against 5-6 µs)."""

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
    outcome: dict[str, Any] = msgspec.field(default_factory=dict)
    bound_browser: str | None = None
    updated_at: int | None = None
    version: int = 0

    # --- reading --------------------------------------------------------------------------

    def state_at(self, now: int) -> str:
        if self.state in (CREATED, OPENED) and now >= self.expires_at:
            return EXPIRED
        return self.state

    def public_state(self, now: int) -> str:
        """The state as SPEC §12 shows it: an order being placed is still OPENED to the outside,
        and expires by time like it."""
        state = self.state_at(now)
        if state == ORDERING:
            return EXPIRED if now >= self.expires_at else OPENED
        return state

    @property
    def member_logged_in(self) -> bool:
        """Whether a member logged in during the flow (the callbacks' ``wixMemberLoggedIn``)."""
        return bool(self.outcome.get("memberLoggedIn"))

    # --- transitions ----------------------------------------------------------------------

    def _moved(self, now: int, **values: Any) -> RedirectSession:
        return msgspec.structs.replace(self, **values, updated_at=now, version=self.version + 1)

    def ordering_stalled(self, now: int, stalled_after: int) -> bool:
        """An order requested ``stalled_after`` seconds ago or more that got no answer."""
        return self.state == ORDERING and (self.updated_at or self.created_at) + stalled_after <= now

    def open(self, now: int, browser: str, stalled_after: int | None = None) -> RedirectSession:
        """The first browser to open the session is bound to it; opening it again from that
        browser changes nothing (the same session comes back). With ``stalled_after``, a session
        whose order stalled opens too (for its browser to order again)."""
        state = self.state_at(now)
        stalled = stalled_after is not None and self.ordering_stalled(now, stalled_after)
        if state not in (CREATED, OPENED) and not stalled:
            raise InvalidTransition(f"cannot open a session that is {state}")
        if self.bound_browser is not None and self.bound_browser != browser:
            raise BoundElsewhere("another browser opened this session first")
        if state == CREATED:
            return self._moved(now, state=OPENED, bound_browser=browser)
        return self

    def note_login(self, now: int) -> RedirectSession:
        """A member logged in during the flow (the flow's sign-in page)."""
        self._require(now, OPENED, "note a login in")
        return self._moved(now, outcome={**self.outcome, "memberLoggedIn": True})

    def complete(self, now: int, outcome: dict[str, Any]) -> RedirectSession:
        self._require(now, OPENED, "complete")
        return self._moved(now, state=COMPLETED, outcome={**self.outcome, **outcome})

    def request_order(self, now: int, stalled_after: int | None = None) -> RedirectSession:
        """OPENED → ORDERING; or, with ``stalled_after``, a stalled order requested again (one
        version higher, so of two browsers' tabs retrying at once only one orders)."""
        if stalled_after is None or not self.ordering_stalled(now, stalled_after):
            self._require(now, OPENED, "order from")
        return self._moved(now, state=ORDERING)

    def order_placed(self, now: int, outcome: dict[str, Any]) -> RedirectSession:
        """The provider placed the order: recorded whatever the time (it exists)."""
        if self.state != ORDERING:
            raise InvalidTransition(f"no order was requested for a session that is {self.state}")
        return self._moved(now, state=COMPLETED, outcome={**self.outcome, **outcome})

    def order_failed(self, now: int) -> RedirectSession:
        if self.state != ORDERING:
            raise InvalidTransition(f"no order was requested for a session that is {self.state}")
        return self._moved(now, state=OPENED)

    def abandon(self, now: int, outcome: dict[str, Any] | None = None) -> RedirectSession:
        state = self.state_at(now)
        if state not in (CREATED, OPENED):
            raise InvalidTransition(f"cannot abandon a session that is {state}")
        return self._moved(now, state=ABANDONED, outcome={**self.outcome, **(outcome or {})})

    def expire(self, now: int) -> RedirectSession:
        """End a session early (the session API), or record that its time ran out (the sweeper).
        Not while its order is being placed: that ends in an order, or back in OPENED."""
        if self.state not in (CREATED, OPENED):
            raise InvalidTransition(f"cannot expire a session that is {self.public_state(now)}"
                                    + (" (its order is being placed)" if self.state == ORDERING else ""))
        return self._moved(now, state=EXPIRED)

    def _require(self, now: int, wanted: str, action: str) -> None:
        state = self.state_at(now)
        if state != wanted:
            raise InvalidTransition(f"cannot {action} a session that is {state}")


# The webhook event each public change is reported as (SPEC §12).
_EVENTS = {OPENED: "opened", COMPLETED: "completed", ABANDONED: "abandoned", EXPIRED: "expired"}


def reported_change(before: RedirectSession | None, after: RedirectSession) -> str | None:
    """What a change looks like from outside: ``created``, ``opened``, ``completed``,
    ``abandoned``, ``expired``, or ``None`` when nothing public changed (a login noted during the
    flow, an order requested or failed: the session is OPENED before and after)."""
    if before is None:
        return "created"
    if after.state == before.state or after.state == ORDERING or before.state == ORDERING and after.state == OPENED:
        return None
    return _EVENTS.get(after.state)
