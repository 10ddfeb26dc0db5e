"""SQLite with several server processes: the write lock taken in turn, waited for off the loop.

SQLite has one write lock per database. A process that finds it taken waits in SQLite's busy
handler, which sleeps in steps of up to 100 ms and, on the event loop, stops the loop for that
long: measured with ``serve --workers 2`` on SQLite, create session's p99 went from 10-12 ms (one
worker) to 0.4-1.2 s, with client timeouts, while short links waited behind the sleeping loop too.
And a sleeper seldom wakes in the gap between the other process's commit and its next write, so
the waits are long as well as blocking.

A :class:`WriteLease` is what the server processes of one database take before they write (the
group commit of a loop turn, the checkpointer's RESTART), so that SQLite's own lock is free when
they reach it. It is two ``flock(2)`` locks on files beside the database: ``-writer``, held by
the process that writes, and ``-writer-queue``, a turnstile: a process that must wait holds it
while it waits, and the holder of the lease takes it again only through the turnstile, so that
it goes behind a process already waiting instead of taking the lease back at once. Waiting is
done by a thread (:meth:`take_later`); the kernel wakes it when the lease is given back. The
locks belong to the open files, so two handles of one process exclude each other as two
processes do, and a process that dies gives them back with its files.

Only the processes that take the lease take turns through it: another program's writes (the CLI,
``sqlite3``) still meet SQLite's lock and its busy handler, as before.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
from collections.abc import Callable

__all__ = ["WriteLease"]


class WriteLease:
    def __init__(self, path: str) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        self._lease = os.open(f"{path}-writer", flags, 0o600)
        self._queue = os.open(f"{path}-writer-queue", flags, 0o600)
        self.held = False  # kept by the caller: whether this handle holds the lease
        self._open = True  # its files (``close``)
        self._asks: queue.SimpleQueue[Callable[[BaseException | None], None] | None] = queue.SimpleQueue()
        self._waiter: threading.Thread | None = None

    def try_take(self) -> bool:
        """Take the lease if nobody holds it or waits for it, without waiting."""
        try:
            fcntl.flock(self._queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # someone waits in line (or is passing the turnstile now)
        try:
            fcntl.flock(self._lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            fcntl.flock(self._queue, fcntl.LOCK_UN)
        return True

    def take(self) -> None:
        """Wait in line for the lease (blocking: not on the loop)."""
        fcntl.flock(self._queue, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._lease, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._queue, fcntl.LOCK_UN)

    def give_back(self) -> None:
        if self._open:  # (closed files gave it back)
            fcntl.flock(self._lease, fcntl.LOCK_UN)

    def take_later(self, done: Callable[[BaseException | None], None]) -> None:
        """:meth:`take` in this handle's thread; then ``done(None)`` (or ``done(error)``) is
        called from that thread."""
        if self._waiter is None:
            self._waiter = threading.Thread(target=self._wait_in_line, name="sqlite-write-lease", daemon=True)
            self._waiter.start()
        self._asks.put(done)

    def _wait_in_line(self) -> None:
        while True:
            done = self._asks.get()
            if done is None:
                return
            try:
                self.take()
            except OSError as exc:
                done(exc)
            else:
                done(None)

    def close(self) -> None:
        """Stop the thread and close the files, which gives back the lease if it is held. A
        thread still in line keeps them open (until the process exits): it gives back what it
        gets, through ``done``, and its files must not be closed (and their numbers reused)
        under it."""
        self.held = False
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._asks.put(None)
            waiter.join(1)
            if waiter.is_alive():
                return
        if self._open:
            self._open = False
            os.close(self._lease)
            os.close(self._queue)
