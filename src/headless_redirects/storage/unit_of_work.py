"""The unit of work on SQL (``service.unit_of_work``): staged changes written as one transaction
of compiled statements (``statements``), so:

- on a server's SQLite database the transaction is a savepoint of the event loop's group commit
  (``group_commit``): all-or-nothing on its own, durable with its turn's commit, which the request
  awaits before it answers;
- on PostgreSQL it is one transaction on the async pool (``pg_async``): the guards first (each must
  change exactly one row), then the inserts; without a guard, one statement and one round trip.

A session moves only from the state and version it was read at (``SessionStore.move_step``);
when another request moved it first, nothing is written and the use case hears ``Conflict``.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..service.unit_of_work import Changes, Conflict, UnitOfWork
from .idempotency import IdempotencyStore
from .identity import AuthorizationCodeRow
from .rows import values_of
from .sessions import SessionStore
from .statements import Compiled
from .tables import authorization_codes, webhook_events

if TYPE_CHECKING:
    from ..service.webhooks import EventWriter

__all__ = ["SqlUnitOfWork", "SqlWrites"]

_CODE_FIELDS = tuple(f.name for f in fields(AuthorizationCodeRow))


class SqlWrites:
    """The statements a unit of work writes with, compiled once per database."""

    def __init__(self, sessions: SessionStore, idempotency: IdempotencyStore | None) -> None:
        self.sessions = sessions
        self.fast = sessions.fast
        self.idempotency = idempotency
        c, p = self.fast.compile, sa.bindparam
        self.insert_code = c(authorization_codes.insert().values({name: p(name) for name in _CODE_FIELDS}))
        self.insert_event = c(webhook_events.insert().values(
            {col.name: p(col.name) for col in webhook_events.c if col.name != "seq"}))

    def steps(self, changes: Changes) -> tuple[list[tuple[Compiled, Any]], list[tuple[Compiled, Any]]]:
        """(guards, steps) of ``changes``: the guarded session moves first, then the inserts."""
        guards = [self.sessions.move_step(before, after) for before, after in changes.moved]
        steps: list[tuple[Compiled, Any]] = [self.sessions.insert_step(s) for s in changes.added]
        steps += [(self.insert_code, values_of(code)) for code in changes.codes]
        if changes.answers:
            assert self.idempotency is not None, "Idempotency-Key answers need the idempotency store"
            steps += [self.idempotency.completion_step(*answer) for answer in changes.answers]
        steps += [(self.insert_event, event) for event in changes.events]
        return guards, steps


class SqlUnitOfWork(UnitOfWork):
    __slots__ = ("_writes",)

    def __init__(self, writes: SqlWrites, events: EventWriter | None = None) -> None:
        super().__init__(writes.sessions.get, events)
        self._writes = writes

    def _write(self, changes: Changes) -> None:
        if len(changes.added) == 1 and not (changes.moved or changes.codes or changes.answers or changes.events):
            # A new session alone (Create Redirect Session without an Idempotency-Key or a
            # webhook to tell): its one insert (``Statements.insert``).
            sessions = self._writes.sessions
            session = changes.added[0]
            self._writes.fast.insert(sessions.insert_statement, sessions.insert_values(session))
            return
        guards, steps = self._writes.steps(changes)
        if not self._writes.fast.write(*steps, guards=guards):
            raise Conflict("the session changed since it was read")
