"""Group commit for PostgreSQL: the reads of one event-loop turn, and its plain writes, sent
together.

A token's refresh-token insert and a session's insert (with its outbox event and idempotency
answer, one statement, see ``pg_async.combine``) are writes of one statement with no guard. On
their own, each costs a round trip on a connection of the pool and a commit of its own: for the
server process, a wake-up of a PostgreSQL backend and the asyncpg work around it; for the
database, a WAL flush. Here the writes a turn of the event loop asks for are collected, and at
the end of the turn each distinct statement is sent once with all its rows, through asyncpg's
``executemany``: its Bind/Execute pairs go out in one write with a single Sync, so they run in
one implicit transaction, all or nothing, and commit together.

A request is answered only once the commit that holds its row is done, as on SQLite
(``group_commit``). When the batch fails as a whole:

- a database error (a unique key taken, say): nothing was written, so each write is sent again
  on its own, and each request hears of its own outcome only;
- a lost connection: whether the commit happened is not known, so every request of the batch
  gets the error, exactly as a single write on that connection would have.

Writes with guards (a compare-and-set) need their answers before the rest and keep their own
transaction (``pg_async.write``). Being one transaction, a batch waits as a whole for a row lock
that one of its rows needs (none of the hot path's inserts of new rows does). A request cancelled
once it joined a turn still has its write sent with the others, as a statement already sent
would have been committed.

Reads (a short link's session, a refresh token, a member...) are grouped the same way, each
distinct statement sent once for all the turn's arguments (``pg_async.fetch_first_of_each``:
one round trip, one snapshot). A batch that fails is read again one by one, which also tries a
read once more on another connection when its connection was lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.util.concurrency import greenlet_spawn

__all__ = ["PgGroup"]

_Waiting = tuple[Sequence[Any], "asyncio.Future[Any]"]


class PgGroup:
    """``write_many(sql, rows)``, ``write_one(sql, args)``, ``read_many`` and ``read_one``
    execute on a pooled connection from inside a greenlet (``Statements``), raising errors as
    SQLAlchemy raises them; ``lost`` tells a lost connection from a database error."""

    def __init__(self, write_many: Callable[[str, list[Sequence[Any]]], None],
                 write_one: Callable[[str, Sequence[Any]], None],
                 read_many: Callable[[str, list[Sequence[Any]]], list[tuple[Any, ...] | None]],
                 read_one: Callable[[str, Sequence[Any]], tuple[Any, ...] | None],
                 lost: Callable[[BaseException], bool]) -> None:
        self._write_many = write_many
        self._write_one = write_one
        self._read_many = read_many
        self._read_one = read_one
        self._lost = lost
        # loop -> (is a read, sql) -> waiting requests
        self._pending: dict[asyncio.AbstractEventLoop, dict[tuple[bool, str], list[_Waiting]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # writes sent with more than one row (for tests)
        self.read_batches = 0  # reads sent for more than one request (for tests)

    async def write(self, sql: str, args: Sequence[Any]) -> None:
        """Write ``sql`` with ``args`` in this turn's group; returns once it is committed."""
        await self._join(False, sql, args)

    async def read(self, sql: str, args: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row of ``sql`` with ``args`` (``None`` if none), read with this turn's group."""
        return await self._join(True, sql, args)  # type: ignore[no-any-return]

    def _join(self, read: bool, sql: str, args: Sequence[Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        turn = self._pending.get(loop)
        if turn is None:
            turn = self._pending[loop] = {}
            loop.call_soon(self._flush, loop)
        turn.setdefault((read, sql), []).append((args, future))
        return future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        turn = self._pending.pop(loop, {})
        for (read, sql), waiting in turn.items():
            task = loop.create_task(self._fetch(sql, waiting) if read else self._send(sql, waiting))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _fetch(self, sql: str, waiting: list[_Waiting]) -> None:
        # Only a SELECT can be asked as one row each (``pg_async.one_row_each``).
        if len(waiting) > 1 and sql.lstrip()[:6].upper() == "SELECT":
            try:
                rows = await greenlet_spawn(self._read_many, sql, [args for args, _ in waiting])
            except Exception:  # noqa: BLE001 - each is read again on its own, and hears of its own outcome
                rows = []
            if len(rows) == len(waiting):
                self.read_batches += 1
                for (_, future), row in zip(waiting, rows, strict=True):
                    _settle(future, None, row)
                return
        await asyncio.gather(*(self._alone(self._read_one, sql, args, future) for args, future in waiting))

    async def _send(self, sql: str, waiting: list[_Waiting]) -> None:
        if len(waiting) == 1:
            await self._alone(self._write_one, sql, *waiting[0])
            return
        try:
            await greenlet_spawn(self._write_many, sql, [args for args, _ in waiting])
        except Exception as exc:  # noqa: BLE001 - every request of the batch hears of it
            if self._lost(exc):
                for args, future in waiting:
                    _settle(future, _own(exc, args))
                return
            # Nothing was written: each on its own, so that only its own failure reaches it.
            await asyncio.gather(*(self._alone(self._write_one, sql, args, future) for args, future in waiting))
            return
        self.batches += 1
        for _, future in waiting:
            _settle(future, None)

    async def _alone(self, run: Callable[[str, Sequence[Any]], Any], sql: str, args: Sequence[Any],
                     future: asyncio.Future[Any]) -> None:
        """One request's read or write on its own: its answer, or its own error."""
        try:
            result = await greenlet_spawn(run, sql, args)
        except Exception as exc:  # noqa: BLE001 - its request hears of it
            _settle(future, exc)
        else:
            _settle(future, None, result)


def _own(exc: BaseException, args: Sequence[Any]) -> BaseException:
    """``exc`` as one request of the batch hears it: an error of its own (each is raised in its
    own request), naming its own arguments only, not the whole batch's rows."""
    if not isinstance(exc, sa.exc.DBAPIError) or exc.orig is None:
        return exc
    own = type(exc)(exc.statement, args, exc.orig, connection_invalidated=exc.connection_invalidated)
    own.__cause__ = exc.orig
    return own


def _settle(future: asyncio.Future[Any], error: BaseException | None, result: Any = None) -> None:
    if future.done():
        return  # its request was cancelled
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
