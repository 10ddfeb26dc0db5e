"""The redirect sessions table: reads by id and short code, and the statements the unit of work
writes sessions with (``storage.unit_of_work``). Compiled once, executed on the DBAPI connection
(``statements``); rows are read by column name (the SELECT names ``RedirectSession``'s fields)."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa

from ..domain.lifecycle import CREATED, OPENED, RedirectSession
from ..domain.sessions import session_id_from_short_code
from .database import Database
from .rows import json_column, named_columns
from .statements import Compiled, Statements
from .tables import redirect_sessions

__all__ = ["SessionStore"]

s = redirect_sessions
_FIELDS = RedirectSession.__struct_fields__
_JSON = tuple(c.name for c in s.c if isinstance(c.type, sa.JSON))
_JSON_AT = tuple(i for i, name in enumerate(_FIELDS) if name in _JSON)
_encoder = msgspec.json.Encoder()


class SessionStore:
    def __init__(self, db: Database, fast: Statements) -> None:
        self.db = db
        self.engine = db.engine
        self.fast = fast
        c = fast.compile
        p = sa.bindparam
        self._get = c(sa.select(*named_columns(s, RedirectSession)).where(s.c.id == p("id")))
        self._short_link = c(sa.select(s.c.full_url, s.c.expires_at).where(s.c.id == p("id")))
        self.insert_statement: Compiled = fast.compile_insert(s, _FIELDS)
        # A transition is written only from the state and version it was read at.
        self.move_statement: Compiled = c(
            s.update()
            .where(s.c.id == p("id"), s.c.state == p("from_state"), s.c.version == p("from_version"))
            .values(state=p("state"), outcome=p("outcome"), bound_browser=p("bound_browser"),
                    updated_at=p("updated_at"), version=p("version")))

    # --- writes, as steps of a unit of work's transaction ------------------------------------

    def insert_step(self, session: RedirectSession) -> tuple[Compiled, dict[str, Any]]:
        return self.insert_statement, dict(zip(_FIELDS, self.insert_values(session), strict=True))

    @staticmethod
    def insert_values(session: RedirectSession) -> tuple[Any, ...]:
        """The values of ``session``'s insert (``insert_statement``), in its order."""
        values = list(msgspec.structs.astuple(session))
        for i in _JSON_AT:
            values[i] = _encoder.encode(values[i]).decode()
        return tuple(values)

    def move_step(self, before: RedirectSession, after: RedirectSession) -> tuple[Compiled, dict[str, Any]]:
        return self.move_statement, {
            "id": before.id, "from_state": before.state, "from_version": before.version, "state": after.state,
            "outcome": _encoder.encode(after.outcome).decode(), "bound_browser": after.bound_browser,
            "updated_at": after.updated_at, "version": after.version,
        }

    def insert(self, session: RedirectSession) -> None:
        """Store a session on its own, with no event (tests and tools; use cases go through the
        unit of work)."""
        self.fast.insert(self.insert_statement, self.insert_values(session))

    # --- reads -------------------------------------------------------------------------------

    def get(self, session_id: str) -> RedirectSession | None:
        row = self.fast.one(self._get, {"id": session_id})
        if row is None:
            return None
        values = list(row)
        for i in _JSON_AT:
            values[i] = json_column(values[i])
        return RedirectSession(*values)

    def short_link(self, code: str) -> tuple[str, int] | None:
        """``(full_url, expires_at)`` of the session behind a short code."""
        session_id = session_id_from_short_code(code)
        return None if session_id is None else _link(self.fast.one(self._short_link, {"id": session_id}))

    async def short_link_awaited(self, code: str) -> tuple[str, int] | None:
        """``short_link`` awaited from the loop on PostgreSQL's async pool (``one_awaited``)."""
        session_id = session_id_from_short_code(code)
        return None if session_id is None else _link(await self.fast.one_awaited(self._short_link, {"id": session_id}))

    def newest(self, site_id: str | None, limit: int) -> list[RedirectSession]:
        """The newest sessions (of one site, or all): the CLI's listing."""
        query = sa.select(s).order_by(s.c.created_at.desc()).limit(limit)
        if site_id is not None:
            query = query.where(s.c.site_id == site_id)
        with self.engine.connect() as c:
            return [RedirectSession(**r._mapping) for r in c.execute(query)]

    def past_their_time(self, site_ids: frozenset[str], now: int, limit: int) -> list[RedirectSession]:
        """Sessions of these sites whose time ran out while CREATED or OPENED (the sweeper's)."""
        if not site_ids:
            return []
        query = (sa.select(s).where(s.c.site_id.in_(site_ids), s.c.expires_at <= now,
                                    s.c.state.in_((CREATED, OPENED))).limit(limit))
        with self.engine.connect() as c:
            return [RedirectSession(**r._mapping) for r in c.execute(query)]


def _link(row: tuple[Any, ...] | None) -> tuple[str, int] | None:
    """A short link's ``(full_url, expires_at)`` from its row."""
    return None if row is None else (row[0], int(row[1]))
