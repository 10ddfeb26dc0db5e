"""Group commit for PostgreSQL: the hot path's plain writes of one event-loop turn, sent together.

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
transaction (``pg_async.write``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.util.concurrency import greenlet_spawn

__all__ = ["PgGroup"]

_Waiting = tuple[Sequence[Any], "asyncio.Future[None]"]


class PgGroup:
    """``run_many(sql, rows)`` and ``run_one(sql, args)`` execute on a pooled connection from
    inside a greenlet (``Statements``), raising errors as SQLAlchemy raises them; ``lost`` tells
    a lost connection from a database error."""

    def __init__(self, run_many: Callable[[str, list[Sequence[Any]]], None],
                 run_one: Callable[[str, Sequence[Any]], None], lost: Callable[[BaseException], bool]) -> None:
        self._run_many = run_many
        self._run_one = run_one
        self._lost = lost
        self._pending: dict[asyncio.AbstractEventLoop, dict[str, list[_Waiting]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # sent with more than one row (for tests)

    async def write(self, sql: str, args: Sequence[Any]) -> None:
        """Write ``sql`` with ``args`` in this turn's group; returns once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        turn = self._pending.get(loop)
        if turn is None:
            turn = self._pending[loop] = {}
            loop.call_soon(self._flush, loop)
        turn.setdefault(sql, []).append((args, future))
        await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        turn = self._pending.pop(loop, {})
        for sql, waiting in turn.items():
            task = loop.create_task(self._send(sql, waiting))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, sql: str, waiting: list[_Waiting]) -> None:
        if len(waiting) == 1:
            await self._alone(sql, *waiting[0])
            return
        try:
            await greenlet_spawn(self._run_many, sql, [args for args, _ in waiting])
        except Exception as exc:  # noqa: BLE001 - every request of the batch hears of it
            if self._lost(exc):
                for _, future in waiting:
                    _settle(future, exc)
                return
            # Nothing was written: each on its own, so that only its own failure reaches it.
            await asyncio.gather(*(self._alone(sql, args, future) for args, future in waiting))
            return
        self.batches += 1
        for _, future in waiting:
            _settle(future, None)

    async def _alone(self, sql: str, args: Sequence[Any], future: asyncio.Future[None]) -> None:
        try:
            await greenlet_spawn(self._run_one, sql, args)
        except Exception as exc:  # noqa: BLE001 - its request hears of it
            _settle(future, exc)
        else:
            _settle(future, None)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return  # its request was cancelled
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
