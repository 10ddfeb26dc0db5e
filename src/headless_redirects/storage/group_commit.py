"""Group commit for a server's SQLite database: the hot-path writes made during one turn of the
event loop share one commit.

A write runs at once on the writer connection, inside the open transaction; the commit is
scheduled for the end of the loop's turn, so every request that wrote in that turn is committed
together. ``Database.run`` awaits that commit before it returns, so nothing is acknowledged
before it is durable: a request answers only after the commit that holds its rows.

Other SQLite connections of the process would wait for the writer's lock, so any SQLAlchemy
transaction first commits the pending group (``flush_now``), and a write from another thread or
event loop than the group's commits at once. Outside a running event loop (the CLI, tests) every
write commits at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["GroupCommit"]


class GroupCommit:
    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._pooled: Any = None
        self.lock = threading.RLock()
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop of the open group, if any
        self.dirty = False
        self._waiters: list[asyncio.Future[None]] = []
        self.commits = 0  # for tests and metrics

    @property
    def conn(self) -> Any:
        if self._pooled is None:
            self._pooled = self._connect()
        return self._pooled.driver_connection

    def write(self, run: Callable[[Any], bool]) -> bool:
        """``run(connection)`` executes the statements (no commit) and says whether it wrote."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self.lock:
            if loop is None or (self.loop is not None and loop is not self.loop):
                self._commit_locked()
                try:
                    wrote = run(self.conn)
                    self.conn.commit()
                    self.commits += 1
                except BaseException:
                    self.conn.rollback()
                    raise
                return wrote
            conn = self.conn
            if not conn.in_transaction:
                conn.execute("BEGIN")
            # Each write is all-or-nothing inside the shared transaction.
            conn.execute("SAVEPOINT hr_write")
            try:
                wrote = run(conn)
            except BaseException:
                conn.execute("ROLLBACK TO hr_write")
                conn.execute("RELEASE hr_write")
                raise
            conn.execute("RELEASE hr_write")
            if not self.dirty:
                self.dirty = True
                self.loop = loop
                loop.call_soon(self.flush_now)
            return wrote

    async def durable(self) -> None:
        """Return once everything written so far in this loop is committed."""
        if not self.dirty:
            return
        future = asyncio.get_running_loop().create_future()
        with self.lock:
            if not self.dirty:
                return
            self._waiters.append(future)
        await future

    def flush_now(self) -> None:
        with self.lock:
            self._commit_locked()

    def _commit_locked(self) -> None:
        if not self.dirty:
            return
        waiters, self._waiters = self._waiters, []
        loop, self.loop, self.dirty = self.loop, None, False
        error: BaseException | None = None
        try:
            self.conn.commit()
            self.commits += 1
        except BaseException as exc:  # noqa: BLE001 - every waiter hears of it
            error = exc
            self.conn.rollback()
        if loop is None:
            return
        for waiter in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, waiter, error)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                break

    def close(self) -> None:
        with self.lock:
            if self._pooled is not None:
                self._commit_locked()
                self._pooled.close()
                self._pooled = None


def _resolve(waiter: asyncio.Future[None], error: BaseException | None) -> None:
    if waiter.done():
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)
