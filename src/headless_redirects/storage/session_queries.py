"""The session API's reads (SPEC §12): a site's (or a caller's) sessions, newest first, with
filters and a keyset cursor (``created_at``, ``id``), served by ``ix_redirect_sessions_site_created``."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..domain.lifecycle import ABANDONED, COMPLETED, CREATED, EXPIRED, OPENED, ORDERING, RedirectSession
from .database import Database
from .tables import redirect_sessions

__all__ = ["SessionFilter", "SessionQueries"]

s = redirect_sessions


@dataclass(frozen=True, slots=True)
class SessionFilter:
    site_id: str
    creator_id: str | None = None  # a visitor or member sees only the sessions it created
    state: str | None = None
    intent: str | None = None
    created_from: int | None = None
    created_to: int | None = None


def _state_condition(state: str, now: int) -> sa.ColumnElement[bool]:
    """The stored states a public state stands for (``RedirectSession.public_state``): EXPIRED is
    stored (expire call, sweeper) or derived (not finished and past its time); an order being
    placed (ORDERING) shows as OPENED."""
    live = s.c.state.in_((CREATED, OPENED, ORDERING))
    if state == EXPIRED:
        return sa.or_(s.c.state == EXPIRED, sa.and_(live, s.c.expires_at <= now))
    if state == OPENED:
        return sa.and_(s.c.state.in_((OPENED, ORDERING)), s.c.expires_at > now)
    if state == CREATED:
        return sa.and_(s.c.state == CREATED, s.c.expires_at > now)
    assert state in (COMPLETED, ABANDONED)
    return s.c.state == state


class SessionQueries:
    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def page(self, where: SessionFilter, now: int, limit: int,
             after: tuple[int, str] | None) -> list[RedirectSession]:
        """Up to ``limit`` sessions, newest first, strictly after the cursor ``(created_at, id)``."""
        conditions: list[sa.ColumnElement[bool]] = [s.c.site_id == where.site_id]
        if where.creator_id is not None:
            conditions.append(s.c.creator_id == where.creator_id)
        if where.state is not None:
            conditions.append(_state_condition(where.state, now))
        if where.intent is not None:
            conditions.append(s.c.intent == where.intent)
        if where.created_from is not None:
            conditions.append(s.c.created_at >= where.created_from)
        if where.created_to is not None:
            conditions.append(s.c.created_at <= where.created_to)
        if after is not None:
            conditions.append(sa.or_(s.c.created_at < after[0], sa.and_(s.c.created_at == after[0], s.c.id < after[1])))
        query = sa.select(s).where(*conditions).order_by(s.c.created_at.desc(), s.c.id.desc()).limit(limit)
        with self.engine.connect() as c:
            return [RedirectSession(**r._mapping) for r in c.execute(query)]
