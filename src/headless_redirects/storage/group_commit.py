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

Under sustained load a write begins on every turn, so the WAL is never fully checkpointed at the
moment a transaction begins, which is the only moment SQLite can wrap it: it would grow without
bound. The checkpointer thread therefore ``hold``s the group now and then: on the loop, between
two turns, the open group is committed and a gate closes, so that ``Database.run`` waits (without
blocking the loop) while the thread runs a RESTART checkpoint; ``release`` opens the gate. The
writes are the same as ever, only later: answered once committed, each all-or-nothing. The
checkpointer's rounds take their time (each copies frames and syncs the file), so the loop also
bounds the WAL itself: a commit that leaves it past ``wal_over``'s bound closes the gate until
the checkpointer has been round (``unlimit``).

With several server processes on the database, the loop's writes are made under a
``WriteLease`` (``lease``): ``Database.run`` takes it before the use case runs (waiting for it,
when another process holds it or waits for it, in the lease's thread while the loop goes on), and
it is given back once the writes made under it are committed and no use case that was given it
is still to run. A turn's writes still share one commit; the processes' turns alternate.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from ..loops import LoopCache
from .write_lease import WriteLease

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
        self.home: asyncio.AbstractEventLoop | None = None  # the loop whose writes are grouped
        self._home_thread = 0  # the thread that runs ``home``
        self._loops = LoopCache()
        # Closed (a pending future of ``home``) while the checkpointer holds the writes.
        self.gate: asyncio.Future[None] | None = None
        self._holding: asyncio.AbstractEventLoop | None = None
        # Asked after each of the loop's commits: whether the WAL is past its hard bound, when
        # the gate closes until the checkpointer has been round (``limited``; the checkpointer
        # sets it, see ``database``).
        self.wal_over: Callable[[], bool] | None = None
        self.limited = False
        # Several processes on the database (``Database(write_lease=True)``): the lease taken
        # before the loop's writes, given back once they are committed (``take_lease``).
        self.lease: WriteLease | None = None
        # The use cases waiting for it: while there are any, the lease's thread waits in line.
        self._lease_waiters: list[asyncio.Future[None]] = []
        self._woken = 0  # use cases given the lease that have not yet run
        self.running = 0  # use cases running under the lease (``Database.run``)

    @property
    def conn(self) -> Any:
        if self._pooled is None:
            self._pooled = self._connect()
        return self._pooled.driver_connection

    def running_loop(self) -> asyncio.AbstractEventLoop | None:
        """The caller's running event loop, if any (without a system call: ``loops``)."""
        return self._loops.running()

    def write(self, run: Callable[[Any], bool], savepoint: bool = True) -> bool:
        """``run(connection)`` executes the statements (no commit) and says whether it wrote.
        A write of one statement that either succeeds or raises needs no savepoint
        (``savepoint=False``): SQLite undoes a failed statement by itself and leaves the
        transaction as it was."""
        loop = self.running_loop()
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
            single = not savepoint
            if not single:
                conn.execute("SAVEPOINT hr_write")
            try:
                wrote = run(conn)
            except BaseException as exc:
                if not conn.in_transaction:
                    # Some errors (a full disk, an I/O error) make SQLite roll the whole
                    # transaction back: the writes grouped with this one are gone too, and
                    # their requests must hear so rather than be answered as committed.
                    if self.dirty:
                        self._settle(exc)
                    raise
                if not single:
                    conn.execute("ROLLBACK TO hr_write")
                    conn.execute("RELEASE hr_write")
                if not self.dirty:
                    # Nothing else is in the transaction: end it now. Left open, it would keep
                    # SQLite's write lock (taken by the undone statements) until the next write,
                    # and another process's writes would fail with "database is locked".
                    conn.rollback()
                raise
            if not single:
                conn.execute("RELEASE hr_write")
            if not self.dirty:
                self.dirty = True
                if loop is not self.home:
                    self.home, self._home_thread = loop, threading.get_ident()
                self.loop = loop
                loop.call_soon(self.flush_now)
            return wrote

    async def wait_open(self) -> None:
        """Return once the gate is open (at once from a loop other than the one held)."""
        gate = self.gate
        while gate is not None and gate.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(gate)  # a cancelled caller must not cancel the others' wait
            gate = self.gate

    def hold(self, timeout: float) -> bool:
        """From another thread: commit the open group and close the gate, on the loop between two
        turns. ``True`` once held; ``False`` when no loop is writing or it did not get to it in
        ``timeout`` seconds. Every ``hold`` is followed by a ``release``, whatever it returned."""
        loop = self.home
        held = threading.Event()

        def close() -> None:
            if self.gate is None:
                self.gate = loop.create_future()  # type: ignore[union-attr]
            self.flush_now()
            held.set()

        self._holding = loop
        if loop is None:
            return False
        try:
            loop.call_soon_threadsafe(close)
        except RuntimeError:  # that loop is closed
            self.home = None
            return False
        return held.wait(timeout)

    def release(self) -> None:
        """Open the gate (after ``close``, which the loop runs first if it has not yet)."""
        loop, self._holding = self._holding, None
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._open)
            except RuntimeError:
                pass  # closed: nobody is waiting any more

    def unlimit(self) -> None:
        """From the checkpointer, after each of its rounds: open a gate that a commit closed on
        the WAL's hard bound (``wal_over``), held or not in that round. A WAL still past it
        closes it again at the next commit."""
        loop = self.home
        if loop is not None and self.limited:
            try:
                loop.call_soon_threadsafe(self._open_limited)
            except RuntimeError:
                pass

    def _open(self) -> None:
        gate, self.gate, self.limited = self.gate, None, False
        if gate is not None and not gate.done():
            gate.set_result(None)

    def _open_limited(self) -> None:
        if self.limited:
            self._open()

    def _limit(self) -> None:
        """After a commit on the loop: close the gate while the WAL is past its hard bound. The
        checkpointer's PASSIVE rounds copy frames while the writes go on; when they are slow
        (a disk busy with others' writes, each checkpoint's fsync taking seconds) the writes
        would grow the WAL meanwhile, without bound."""
        wal_over = self.wal_over
        if (wal_over is not None and self.gate is None and self.home is not None
                and self._home_thread == threading.get_ident() and wal_over()):
            self.gate = self.home.create_future()
            self.limited = True

    async def durable(self) -> None:
        """Return once everything written so far in this loop is committed."""
        if not self.dirty:
            return
        loop = self.running_loop()
        assert loop is not None, "durable() runs on an event loop"
        future = loop.create_future()
        with self.lock:
            if not self.dirty:
                return
            self._waiters.append(future)
        await future

    def flush_now(self) -> None:
        with self.lock:
            self._commit_locked()
            if self.lease is not None:
                self.release_lease_if_idle()

    # --- the write lease (several processes) -----------------------------------------------

    async def take_lease(self) -> None:
        """Return holding the lease (on the loop, in ``Database.run``): at once when this process
        holds it, or when nobody holds it or waits for it; else once the lease's thread has
        waited in line for it, the loop turning meanwhile."""
        lease = self.lease
        assert lease is not None
        if lease.held:
            return
        if not self._lease_waiters and lease.try_take():
            lease.held = True
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        with self.lock:  # (``_handed_over`` may run on the lease's thread)
            self._lease_waiters.append(waiter)
            if len(self._lease_waiters) == 1:  # the first: the thread gets in line
                lease.take_later(partial(self._handed_over, lease, loop))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._woken -= 1  # given the lease, cancelled before it ran
                self.release_lease_if_idle()
            raise
        self._woken -= 1

    def _handed_over(self, lease: WriteLease, loop: asyncio.AbstractEventLoop, error: BaseException | None) -> None:
        """On the lease's thread, once it has the lease (or failed to get it): to the loop that
        asked. When that loop has closed meanwhile, the lease is given back, and the waiters of
        another loop still running (a process that runs loops one after the other) get in line
        again for theirs."""
        try:
            loop.call_soon_threadsafe(self._taken, lease, error)
            return
        except RuntimeError:  # the loop is closed: nobody of it waits any more
            pass
        if error is None:
            lease.give_back()
        with self.lock:
            waiting = [w for w in self._lease_waiters if not w.get_loop().is_closed()]
            if lease is not self.lease:  # the database was closed meanwhile too
                self._lease_waiters = []
                closed = RuntimeError("the database was closed")
                for waiter in waiting:
                    try:
                        waiter.get_loop().call_soon_threadsafe(_resolve, waiter, closed)
                    except RuntimeError:
                        pass  # that loop closed too
                return
            self._lease_waiters = waiting
            if waiting:
                lease.take_later(partial(self._handed_over, lease, waiting[0].get_loop()))

    def _taken(self, lease: WriteLease, error: BaseException | None) -> None:
        """On the loop: the lease's thread has taken it (or failed to): the use cases waiting
        for it run next, all in the coming turn."""
        with self.lock:
            waiters, self._lease_waiters = self._lease_waiters, []
        waiting = [waiter for waiter in waiters if not waiter.done()]
        if lease is not self.lease:  # the database was closed meanwhile
            if error is None:
                lease.give_back()
            error = RuntimeError("the database was closed")
        if error is not None:
            for waiter in waiting:
                waiter.set_exception(error)
            return
        lease.held = True
        self._woken += len(waiting)
        for waiter in waiting:
            waiter.set_result(None)
        self.release_lease_if_idle()  # nobody waits any more

    def release_lease_if_idle(self) -> None:
        """Give the lease back when nothing written under it waits for its commit and no use
        case that was given it is running or still to run."""
        lease = self.lease
        if (lease is not None and lease.held and not self.dirty and self._woken == 0 and self.running == 0
                and self._loops.running() is not None):
            lease.held = False
            lease.give_back()

    def _commit_locked(self) -> None:
        if not self.dirty:
            return
        error: BaseException | None = None
        try:
            self.conn.commit()
            self.commits += 1
        except BaseException as exc:  # noqa: BLE001 - every waiter hears of it
            error = exc
            self.conn.rollback()
        self._settle(error)
        self._limit()

    def _settle(self, error: BaseException | None) -> None:
        """End the group: its waiters learn that it committed (``error`` None) or failed."""
        waiters, self._waiters = self._waiters, []
        loop, self.loop, self.dirty = self.loop, None, False
        if loop is None:
            return
        if loop is self.home and self._home_thread == threading.get_ident():
            for waiter in waiters:  # on the loop's own thread (the usual case): no wake-up needed
                _resolve(waiter, error)
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
            lease, self.lease = self.lease, None
        if lease is not None:
            lease.close()  # outside the lock, which its thread may be waiting for (``_handed_over``)


def _resolve(waiter: asyncio.Future[None], error: BaseException | None) -> None:
    if waiter.done():
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)
