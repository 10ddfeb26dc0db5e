"""The unit of work: what a use case changes is written all together, or not at all.

    with uow:
        session = uow.sessions.get(session_id)
        uow.sessions.save(session, session.complete(now, outcome))
        uow.codes.add(code)
        uow.commit()        # raises Conflict when another request changed the session first

Leaving the block without ``commit()`` forgets everything staged (cosmicpython's unit of work).
Reads go straight to storage; writes are staged and written at ``commit`` in one transaction,
with the webhook events they cause (the outbox, SPEC §12). A session is saved with a guard on
the state and version it was read at (``domain.lifecycle``), so the transaction writes nothing
when that session has moved meanwhile, and the use case hears :class:`Conflict`.

Implementations: ``storage.unit_of_work.SqlUnitOfWork`` (SQLite, grouped with the other writes of
the event loop's turn, and PostgreSQL) and the in-memory fake of the tests (``tests/fakes.py``);
both run the same staging below, so the service tests on the fake exercise what production runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..domain.lifecycle import RedirectSession, reported_change
from ..storage.identity import AuthorizationCodeRow

if TYPE_CHECKING:
    from .webhooks import EventWriter

__all__ = ["Changes", "Conflict", "UnitOfWork"]


class Conflict(Exception):
    """A guarded write found the session changed since it was read: nothing was written."""


@dataclass(slots=True)
class Changes:
    """What a unit of work will write at ``commit``."""

    added: list[RedirectSession] = field(default_factory=list)
    # (as read, as it is to be): written only if the stored session is still ``before``.
    moved: list[tuple[RedirectSession, RedirectSession]] = field(default_factory=list)
    codes: list[AuthorizationCodeRow] = field(default_factory=list)
    # Idempotency-Key answers: (key digest, status, body), stored with the session they created.
    answers: list[tuple[str, int, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.moved or self.codes or self.answers)

    def clear(self) -> None:
        if self or self.events:
            self.added.clear()
            self.moved.clear()
            self.codes.clear()
            self.answers.clear()
            self.events.clear()


class Sessions:
    """The redirect sessions repository of a unit of work."""

    __slots__ = ("_changes", "_read")

    def __init__(self, read: Any, changes: Changes) -> None:
        self._read = read
        self._changes = changes

    def get(self, session_id: str) -> RedirectSession | None:
        found: RedirectSession | None = self._read(session_id)
        return found

    def add(self, session: RedirectSession) -> None:
        self._changes.added.append(session)

    def save(self, before: RedirectSession, after: RedirectSession) -> None:
        """Stage ``before``'s move to ``after`` (a transition of ``domain.lifecycle``)."""
        if after.version != before.version + 1 or after.id != before.id:
            raise ValueError("a session is saved with the transition that made it from what was read")
        self._changes.moved.append((before, after))


class Codes:
    """The authorization codes repository of a unit of work (written only)."""

    __slots__ = ("_changes",)

    def __init__(self, changes: Changes) -> None:
        self._changes = changes

    def add(self, code: AuthorizationCodeRow) -> None:
        self._changes.codes.append(code)


class Answers:
    """Idempotency-Key answers (``service.idempotency``), kept with what they created."""

    __slots__ = ("_changes",)

    def __init__(self, changes: Changes) -> None:
        self._changes = changes

    def add(self, key_hash: str, status: int, body: str) -> None:
        self._changes.answers.append((key_hash, status, body))


class UnitOfWork(ABC):
    """One use case's changes. Not shared between requests: ``bootstrap`` gives each use case a
    new one (``uow()``)."""

    __slots__ = ("_changes", "answers", "codes", "events", "sessions")

    def __init__(self, read_session: Callable[[str], RedirectSession | None],
                 events: EventWriter | None = None) -> None:
        # ``read_session`` is storage's reader, not a method of this object: a unit of work holds
        # no reference cycle, so it is freed as soon as the use case leaves it (no GC work on the
        # hot path).
        self.events = events
        self._changes = Changes()
        self.sessions = Sessions(read_session, self._changes)
        self.codes = Codes(self._changes)
        self.answers = Answers(self._changes)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.rollback()

    def commit(self) -> None:
        """Write everything staged in one transaction, with the events it causes; raises
        :class:`Conflict` (having written nothing) when a saved session had moved meanwhile."""
        changes = self._changes
        if not changes:
            return
        if self.events is not None:
            for session in changes.added:
                self._report(None, session)
            for before, after in changes.moved:
                self._report(before, after)
        reported = bool(changes.events)
        try:
            self._write(changes)
        finally:
            changes.clear()
        if reported and self.events is not None:
            self.events.written()

    def rollback(self) -> None:
        """Forget what is staged (a committed unit has nothing staged any more)."""
        self._changes.clear()

    def _report(self, before: RedirectSession | None, after: RedirectSession) -> None:
        change = reported_change(before, after)
        assert self.events is not None
        row = self.events.session_event(after, f"redirect_session.{change}") if change else None
        if row is not None:
            self._changes.events.append(row)

    @abstractmethod
    def _write(self, changes: Changes) -> None:
        """Write ``changes`` in one transaction; :class:`Conflict` when a guard fails."""
