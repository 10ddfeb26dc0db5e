"""SQLite: the hot-path reads of one event-loop turn share one read transaction.

A read outside a transaction begins and ends one of its own: in WAL mode that is a shared lock
on the database file and a read mark in the WAL index, taken and given back around every
statement (system calls each). Under load a loop turn answers many requests, so here the first
read of a turn on the loop's thread begins a transaction on a connection kept for the purpose,
the turn's other reads run in it, and the next turn ends it (``call_soon``). Measured side by
side (``python bench/ab.py --before <src> --endpoint short --runs 6``): 1.09 × the short links
served; ``refresh_token`` 1.05 ×, create session 1.00 × (5 pairs each).

What such a read can see is what a read of its own would have seen when the turn began:

- A request is read from its socket in one turn and handled in a later one, so a transaction
  begun in the turn that handles it began after the request arrived, after everything that was
  acknowledged before it was sent (by this process or another) was committed.
- A commit made by this process during the turn ends the shared transaction (``Database.commits``
  moved on): the next read begins a new one, so a request reads what it wrote itself, and the
  group's commit at the start of a turn is seen by the reads after it, as before.
- A write that races a read (another process's, within the turn) is settled as before, by the
  guards of the writes (``Statements.write``), which run on the writer's connection.

Only one loop at a time (the first that reads; the next one once that one is closed) shares its
reads this way, and only on its own thread: reads from other threads and loops run as before.
The transaction never outlives a turn of a running loop, so the checkpointer's RESTART, which
waits for readers, waits at most a turn; a loop closed in the middle of a turn has its
transaction ended by the next loop that reads, and ``close`` ends it at shutdown. (A loop that
is stopped but neither run again nor closed would keep it: ``serve`` runs one loop for its life.)
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from ..loops import LoopCache

__all__ = ["TurnReads"]


class TurnReads:
    def __init__(self, connect: Callable[[], Any], commits: Callable[[], int]) -> None:
        self._connect = connect  # a pooled connection of the engine
        self._commits = commits  # this process's commits so far (``Database.commits``)
        self._loops = LoopCache()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop whose reads are shared
        self._pooled: Any = None
        self._conn: Any = None  # its sqlite3 connection, while a transaction is open
        self._since = 0  # ``commits()`` when that transaction began
        self._ending = False  # whether the end of the turn is scheduled

    def connection(self) -> Any | None:
        """The sqlite3 connection of this turn's shared transaction (begun if need be), or
        ``None`` off the shared loop's thread."""
        loop = self._loops.running()
        if loop is None:
            return None
        if loop is not self._loop and not self._claim(loop):
            return None
        conn = self._conn
        commits = self._commits()
        if conn is not None:
            if commits == self._since:
                return conn
            self._end()  # this process committed since it began: see that too
        else:
            if self._pooled is None:
                self._pooled = self._connect()
            conn = self._pooled.driver_connection
        conn.execute("BEGIN")
        self._conn, self._since = conn, commits
        if not self._ending:
            self._ending = True
            loop.call_soon(self._end_turn)
        return conn

    def _claim(self, loop: asyncio.AbstractEventLoop) -> bool:
        with self._lock:
            if self._loop is not None and not self._loop.is_closed():
                return False
            self._end()  # a closed loop's last turn never ended
            self._loop, self._ending = loop, False
            return True

    def _end_turn(self) -> None:
        self._ending = False
        self._end()

    def _end(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                conn.rollback()

    def close(self) -> None:
        """End the open transaction and give the connection back (at shutdown)."""
        with self._lock:
            try:
                self._end()
            finally:
                pooled, self._pooled, self._loop, self._ending = self._pooled, None, None, False
                if pooled is not None:
                    pooled.close()
