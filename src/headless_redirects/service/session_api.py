"""The session API (SPEC §12): read a session, list a site's sessions, expire one.

An API key (with the create scope) and ``wix-site-id`` see the site's sessions; a visitor's or
member's access token sees only the sessions it created. Anything else is 404, never 403: the
caller learns nothing about sessions that are not its own.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from datetime import datetime

import msgspec

from ..domain.errors import ApplicationError, FieldViolation, NotFound, Rule, ValidationFailed
from ..domain.intents import INTENTS
from ..domain.lifecycle import EXPIRED, ORDERING, PUBLIC_STATES, InvalidTransition, RedirectSession
from ..settings import Settings
from ..storage.session_queries import SessionFilter, SessionQueries
from .create_session import Caller
from .session_view import SessionInfo, session_info
from .unit_of_work import Conflict, UnitOfWork

__all__ = ["Cursors", "PagingMetadata", "SessionApi", "SessionEnvelope", "SessionsPage"]

MAX_LIMIT = 100


class SessionEnvelope(msgspec.Struct, frozen=True):
    redirectSession: SessionInfo  # noqa: N815 - the wire's names


class Cursors(msgspec.Struct, frozen=True):
    next: str | None


class PagingMetadata(msgspec.Struct, frozen=True):
    count: int
    cursors: Cursors


class SessionsPage(msgspec.Struct, frozen=True):
    redirectSessions: list[SessionInfo]  # noqa: N815
    pagingMetadata: PagingMetadata  # noqa: N815


class SessionApi:
    def __init__(self, uow: Callable[[], UnitOfWork], queries: SessionQueries, settings: Settings) -> None:
        self.uow = uow
        self.queries = queries
        self.public_url = settings.public_url

    def _visible(self, uow: UnitOfWork, caller: Caller, session_id: str) -> RedirectSession:
        session = uow.sessions.get(session_id)
        if session is None or session.site_id != caller.tenant.site.id or (
                caller.identity is not None and session.creator_id != caller.identity.subject_id):
            raise NotFound(f"no redirect session {session_id}")
        return session

    def get(self, caller: Caller, session_id: str) -> SessionEnvelope:
        with self.uow() as uow:
            return SessionEnvelope(session_info(self._visible(uow, caller, session_id), self.public_url))

    def expire(self, caller: Caller, session_id: str) -> SessionEnvelope:
        with self.uow() as uow:
            session = self._visible(uow, caller, session_id)
            if session.state == EXPIRED:
                return SessionEnvelope(session_info(session, self.public_url))
            now = int(time.time())
            try:
                expired = session.expire(now)
            except InvalidTransition:
                if session.state == ORDERING:
                    raise ApplicationError("SESSION_ORDER_IN_PROGRESS", "the session's order is being placed; it "
                                           "completes, or opens again, in a moment", 409) from None
                raise ApplicationError("SESSION_ALREADY_FINISHED", f"the session is {session.public_state(now)}; "
                                       "only a CREATED or OPENED session can be expired", 409) from None
            uow.sessions.save(session, expired)
            try:
                uow.commit()
            except Conflict:
                return self.expire(caller, session_id)  # it changed meanwhile: answer for what it is now
            return SessionEnvelope(session_info(expired, self.public_url))

    def list(self, caller: Caller, params: dict[str, str]) -> SessionsPage:
        violations: list[FieldViolation] = []
        state = params.get("state") or None
        if state is not None and state not in PUBLIC_STATES:
            violations.append(FieldViolation("state", f"must be one of {', '.join(PUBLIC_STATES)}",
                                             Rule.INVALID_ENUM_VALUE))
        intent = params.get("intent") or None
        if intent is not None and intent not in INTENTS:
            violations.append(FieldViolation("intent", "is not a known intent", Rule.INVALID_ENUM_VALUE))
        created_from = _date(params, "createdFrom", violations)
        created_to = _date(params, "createdTo", violations)
        limit = _limit(params.get("limit"), violations)
        after = _cursor(params.get("cursor"), violations)
        if violations:
            raise ValidationFailed(violations)
        where = SessionFilter(caller.tenant.site.id, caller.identity.subject_id if caller.identity else None,
                              state, intent, created_from, created_to)
        now = time.time()
        rows = self.queries.page(where, int(now), limit + 1, after)
        page, more = rows[:limit], len(rows) > limit
        next_cursor = _encode_cursor(page[-1]) if more and page else None
        return SessionsPage([session_info(r, self.public_url, now) for r in page],
                            PagingMetadata(len(page), Cursors(next_cursor)))


def _date(params: dict[str, str], name: str, violations: list[FieldViolation]) -> int | None:
    value = params.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError
        return int(parsed.timestamp())
    except (ValueError, OverflowError, OSError):
        violations.append(FieldViolation(name, "must be an RFC 3339 date-time with an offset, like "
                                         "2026-01-31T12:00:00Z", Rule.FORMAT))
        return None


def _limit(value: str | None, violations: list[FieldViolation]) -> int:
    if not value:
        return 50
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        violations.append(FieldViolation("limit", f"must be a whole number from 1 to {MAX_LIMIT}", Rule.VALIDATION,
                                         {"max": MAX_LIMIT}))
        return 50
    return int(value)


def _encode_cursor(session: RedirectSession) -> str:
    return base64.urlsafe_b64encode(f"{session.created_at}:{session.id}".encode()).decode().rstrip("=")


def _cursor(value: str | None, violations: list[FieldViolation]) -> tuple[int, str] | None:
    if not value:
        return None
    try:
        created, _, session_id = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().partition(":")
        if not session_id or len(session_id) != 36:
            raise ValueError
        return int(created), session_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        violations.append(FieldViolation("cursor", "is not a cursor this API returned", Rule.FORMAT))
        return None
