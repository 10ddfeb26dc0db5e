"""The database handle: one SQLAlchemy engine per process, tuned per backend.

SQLite (the default) runs in WAL mode with ``synchronous=NORMAL``: a committed row survives a
killed process. Its calls take microseconds, so they run on the event loop thread.

PostgreSQL calls wait on the network, so from async code they never block the loop and never
hop to a thread either: ``Database.run`` runs the (synchronous) storage code in a greenlet on
the event loop, and every query inside it awaits an asyncpg connection (SQLAlchemy's
``asyncpg`` dialect, the way ``AsyncEngine`` itself works). asyncpg, not psycopg's async mode:
measured here, a one-row insert costs the server process ~45 µs of CPU through asyncpg and
~100 µs through psycopg's async connection, and the server's CPU is what limits throughput.
``engine`` stays one ``Engine`` for every caller: inside such a greenlet it hands out
connections of the async pool, elsewhere (the CLI, migrations, tests) blocking psycopg ones.
The async pool is sized for the worker and kept: no overflow connections that are opened and
closed under load, no ping on checkout (a connection found dead is dropped when it fails, see
``statements``).

A server's SQLite database is checkpointed by a background thread instead of by whichever
commit crosses the WAL threshold: the checkpoint (the only step that fsyncs) then never runs on
the event loop, which takes ~30 µs off every write on average and its worst stalls off requests.
A server's hot-path writes also share commits, on SQLite (``group_commit``) as on PostgreSQL
(``pg_group``).

The WAL stays bounded under sustained writes: a PASSIVE checkpoint copies its frames every half
second without stopping anyone, and once the WAL holds more than ``WAL_RESET_BYTES`` of frames
the checkpointer holds the group's writes for the moment of a RESTART checkpoint, which copies
the few frames left, so that the next write starts the WAL again from its beginning (see
``group_commit`` for why the writes must pause for that). Measured (15 s of grouped inserts in
process, each hold timed): a TRUNCATE after one PASSIVE, which also cut the file to zero (the
writes after it then grew it again), held the writes 30-109 ms; this RESTART after a second
PASSIVE, 5-49 ms. Those rounds take the time their copies and syncs take, and the writes go on
meanwhile; so a bound that holds however slow they are comes from the writes' side: a group commit
that leaves more than ``WAL_HOLD_BYTES`` of frames in the WAL closes the gate and wakes the
checkpointer, and the writes wait for its round (``GroupCommit.wal_over``).

The file itself is cut back (``journal_size_limit``) only past ``WAL_FILE_BYTES``, well above what
it reaches between two restarts: SQLite cuts it in the first commit after a restart, which is the
group's, on the event loop. Cut back to the restart size at every restart (as it was), that commit
took 7-12 ms where the others took under 1, once a second at half the maximum create-session rate
(the commits timed in a served run, the slow requests matched to them). Left at its size, the file
is written over in place: that row's p99 went from 18-35 ms to 10-14 ms (create session offered
1,250 req/s open loop for 10 s, 4 pairs side by side).
"""

from __future__ import annotations

import os
import sqlite3
import struct
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread
import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util.concurrency import greenlet_spawn, in_greenlet

from .async_pools import AsyncPools
from .group_commit import GroupCommit
from .write_lease import WriteLease

__all__ = ["WAL_FILE_BYTES", "WAL_HOLD_BYTES", "WAL_RESET_BYTES", "Database", "normalize_url"]

# The WAL's frames past which the checkpointer restarts it (SPEC §7 bounds the file at 64 MiB; the
# file grows by up to a checkpoint interval of writes past this, ~10 MiB at full speed here).
WAL_RESET_BYTES = 16 * 1024 * 1024
# The size a WAL file past it is cut back to when the WAL restarts (``journal_size_limit``; see
# the module text for why not at every restart).
WAL_FILE_BYTES = 48 * 1024 * 1024
# The WAL's frames past which the group's writes wait for the checkpointer (``GroupCommit.wal_over``):
# a bound that holds however slow its rounds are. Its RESTART comes well before, as a rule.
WAL_HOLD_BYTES = 48 * 1024 * 1024

# ``None`` bound to SQLite as itself, through a registered adapter: CPython's sqlite3 (3.11) sends
# every parameter that is not exactly an int, float or str through its adaptation protocol, where
# ``None`` costs a failed ``__adapt__`` lookup on a type, an ``AttributeError`` formatted and
# thrown away. A registered adapter is found first; an empty dict's ``get`` is a C callable that
# answers ``None`` for ``None``, so the value bound is the same ``NULL``. Measured
# (``bench/instructions.py``): a create session (four ``None``s) 395,725 -> 390,842 instructions,
# an ``anonymous`` token (two, its refresh token's) 309,266 -> 303,325.
_NO_ADAPTATIONS: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NO_ADAPTATIONS.get)

# The WAL index header's isInit, bigEndCksum, szPage and mxFrame, in the machine's byte order.
_WAL_INDEX = struct.Struct("=BBHI")

P = ParamSpec("P")
T = TypeVar("T")
U = TypeVar("U")

_encode = msgspec.json.Encoder()


def _json_dumps(value: Any) -> str:
    return _encode.encode(value).decode()


def normalize_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, background_checkpoints: bool = False,
                 group_commit: bool = False, async_pool: bool = True, read_mmap_bytes: int = 0,
                 write_lease: bool = False) -> None:
        self.url = normalize_url(url)
        self.read_mmap_bytes = read_mmap_bytes
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": msgspec.json.decode,
        }
        # The async pools of a PostgreSQL database (None on SQLite, or when turned off).
        self.async_pools: AsyncPools | None = None
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            self.engine = sa.create_engine(self.url, **kwargs)
        else:
            # Blocking connections serve the CLI and code outside the event loop: few, pinged.
            blocking = sa.create_engine(self.url, pool_size=2, max_overflow=8, pool_pre_ping=True, **kwargs)
            if async_pool:
                async_url, connect_args = _asyncpg_url(parsed)
                self.async_pools = AsyncPools(lambda: create_async_engine(
                    async_url, connect_args=connect_args, pool_size=pool_size, max_overflow=0, pool_timeout=30,
                    pool_recycle=1800, pool_pre_ping=False, **kwargs))
            self.engine = _Engine(blocking, self.async_pools)
        self._on_dispose: list[Callable[[], None]] = []
        self._checkpointer: _Checkpointer | None = None
        self.group: GroupCommit | None = None
        file_path = parsed.database if parsed.database and parsed.database != ":memory:" else None
        if self.is_sqlite and group_commit:
            self.group = GroupCommit(self.engine.raw_connection)
            group = self.group
            # Another connection of this process must not wait for the group's write lock.
            sa.event.listen(self.engine, "begin", lambda _conn: group.flush_now())
            if write_lease and file_path:
                # Several server processes on one SQLite file take turns at writing (``write_lease``).
                group.lease = WriteLease(file_path)
        self._commits = 0  # outside the group: SQLAlchemy's and ``note_commit``'s
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "commit", lambda _conn: self.note_commit())
            if background_checkpoints and file_path:
                sa.event.listen(self.engine, "connect", _no_autocheckpoint)
                self._checkpointer = _Checkpointer(file_path, self.group,
                                                   lease=None if self.group is None or self.group.lease is None
                                                   else WriteLease(file_path))
                self._checkpointer.start()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a storage call from async code (see the module docstring)."""
        if self.is_sqlite:
            group = self.group
            if group is not None and group.gate is not None:
                await group.wait_open()  # the checkpointer is truncating the WAL
            if group is not None and group.lease is not None:
                result = await self._leased(group, fn, *args, **kwargs)
            else:
                result = fn(*args, **kwargs)
            if group is not None and group.dirty:
                await group.durable()  # answer only what is committed
            return result
        if self.async_pools is not None:
            return await greenlet_spawn(lambda: fn(*args, **kwargs))
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    async def run_then(self, then: Callable[[T], U], undo: Callable[[U], object], fn: Callable[P, T],
                       *args: P.args, **kwargs: P.kwargs) -> tuple[T, U]:
        """``run``, and ``then(result)`` as soon as the result is there: on SQLite before the
        loop turn's commit is waited for, so that work which needs nothing to be durable to
        begin (an access token's signature, made in another process: ``service.signer``) is
        done while the turn goes on and commits. Nothing ``then`` began may be answered before
        this returns; when the commit fails, ``undo`` is given what ``then`` returned and the
        error is raised."""
        if not self.is_sqlite:
            result = await self.run(fn, *args, **kwargs)
            return result, then(result)
        group = self.group
        if group is not None and group.gate is not None:
            await group.wait_open()
        if group is not None and group.lease is not None:
            result = await self._leased(group, fn, *args, **kwargs)
        else:
            result = fn(*args, **kwargs)
        begun = then(result)
        if group is not None and group.dirty:
            try:
                await group.durable()
            except BaseException:
                undo(begun)
                raise
        return result, begun

    @staticmethod
    async def _leased(group: GroupCommit, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn`` under the group's write lease (several processes on one SQLite file)."""
        await group.take_lease()
        group.running += 1
        try:
            return fn(*args, **kwargs)
        finally:
            group.running -= 1
            group.release_lease_if_idle()  # it wrote nothing: no commit will give the lease back

    @property
    def read_now(self) -> bool:
        """Whether ``read`` calls its function at once (SQLite): a caller on the loop may call
        it itself."""
        return self.is_sqlite

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``run`` for a storage call that writes nothing and reads committed rows only (through
        ``Statements.one``, or a SQLAlchemy connection, which commits the group first): a short
        link, authenticating a caller. On SQLite it is answered at once, without waiting for
        the loop turn's group commit or for the checkpointer's hold: those are for writes (a
        RESTART checkpoint waits for a reader at most a turn, ``turn_reads``). Authenticating a
        create that waited for the turn's commit split each turn's creates in two commits, the
        first request's and, a turn later, the others' (``tests/app/test_create_session_grouped``).
        Measured on short links
        with creates at once (``python bench/ab.py --endpoint short --beside session``, 4
        pairs): 2.14 x the short links, 0.77 x the creates (quicker short links took more of
        the closed loop's turns), 1.23 x the requests in all; short links alone 0.99 x."""
        if self.is_sqlite:
            return fn(*args, **kwargs)
        return await self.run(fn, *args, **kwargs)

    def read_connection(self) -> Any:
        """A pooled connection for the hot path's reads (``statements``). On SQLite it maps up to
        ``read_mmap_bytes`` of the file (``mmap_size``): a page is read where it lies in the
        OS's cache, without a system call and a copy. Measured, a primary-key select drawn at
        random (16 a transaction, as served): 5.4 µs on 1 M stored sessions and 2.7 on 10 k
        with pread, 4.0 and 2.1 mapped. The group's writer does not map the file: the pages it
        reads (every new one, as the table grows) stay out of the worker's RSS."""
        pooled = self.engine.raw_connection()
        conn = pooled.driver_connection
        if self.is_sqlite and self.read_mmap_bytes and conn is not None:
            conn.execute(f"PRAGMA mmap_size={int(self.read_mmap_bytes)}")
        return pooled

    def note_commit(self) -> None:
        self._commits += 1

    def commits(self) -> int:
        """How many transactions this process has committed on SQLite (``turn_reads``)."""
        group = self.group
        return self._commits if group is None else self._commits + group.commits

    @property
    def is_async(self) -> bool:
        """Whether this call's queries await the async pool (inside ``run`` on PostgreSQL)."""
        return self.async_pools is not None and in_greenlet()

    def on_dispose(self, callback: Callable[[], None]) -> None:
        self._on_dispose.append(callback)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self.group is not None:
            self.group.close()
        for callback in self._on_dispose:
            callback()
        self.engine.dispose()
        if self.async_pools is not None:
            self.async_pools.close()


def _asyncpg_url(parsed: sa.URL) -> tuple[sa.URL, dict[str, Any]]:
    """The asyncpg twin of a psycopg URL. libpq's ``options=-c name=value`` become asyncpg's
    ``server_settings`` and ``sslmode`` its ``ssl``; other query parameters pass as they are."""
    query = dict(parsed.query)
    connect_args: dict[str, Any] = {}
    options = query.pop("options", None)
    if options:
        text = options if isinstance(options, str) else " ".join(options)
        settings = dict(part.split("=", 1) for part in text.replace("-c ", "-c").split() if "=" in part)
        connect_args["server_settings"] = {k.removeprefix("-c"): v for k, v in settings.items()}
    sslmode = query.pop("sslmode", None)
    if sslmode:
        connect_args["ssl"] = sslmode
    return parsed.set(drivername="postgresql+asyncpg", query=query), connect_args


class _Engine(sa.Engine):
    """The blocking engine, except inside ``Database.run``'s greenlet on the event loop, where
    connections come from the async pool (``AsyncEngine.sync_engine``)."""

    def __init__(self, blocking: sa.Engine, pools: AsyncPools | None) -> None:
        super().__init__(blocking.pool, blocking.dialect, blocking.url)
        self._pools = pools

    def connect(self) -> sa.Connection:
        if self._pools is not None and in_greenlet():
            return self._pools.current().sync_engine.connect()
        return super().connect()

    def raw_connection(self) -> Any:
        if self._pools is not None and in_greenlet():
            return self._pools.current().sync_engine.raw_connection()
        return super().raw_connection()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_FILE_BYTES}")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class _Checkpointer(threading.Thread):
    """Checkpoints the WAL every ``interval`` seconds on a connection of its own: PASSIVE (nobody
    waits), then RESTART with the group's writes held once the WAL's frames pass ``reset_over``
    bytes. Past ``hold_over`` bytes the group's commits close its gate themselves and wake it
    (``wal_over``): the writes wait for its round, which opens the gate again."""

    def __init__(self, path: str, group: GroupCommit | None, interval: float = 0.5,
                 reset_over: int = WAL_RESET_BYTES, hold_over: int = WAL_HOLD_BYTES,
                 lease: WriteLease | None = None) -> None:
        super().__init__(name="sqlite-checkpointer", daemon=True)
        self.path = path
        self.group = group
        self.interval = interval
        self.reset_over = reset_over
        self.hold_over = hold_over
        self.resets = 0  # for tests
        self.limits = 0  # for tests: the rounds a commit past ``hold_over`` woke
        self._frames_at_reset = -1
        self._shm: int | None = None  # the WAL index (``-shm``), read for its frame count
        self._stopped = threading.Event()
        self._wake = threading.Event()
        # Several server processes: a RESTART takes SQLite's write lock, so it waits its turn
        # like their writes do (``write_lease``), here on this thread.
        self.lease = lease
        if group is not None:
            group.wal_over = self.wal_over

    def wal_over(self) -> bool:
        """On the loop, after a commit: whether the WAL holds more than ``hold_over`` bytes of
        frames (then its next round starts now). The count is the WAL index's ``mxFrame``, the
        frames written since the WAL last started over, beside its page size (SQLite's file
        format, "WAL-Index Format"): one ``pread`` of 8 bytes, where the commit wrote its frames
        with several. The index exists while a connection has the database open, as the group's
        writer has for as long as it commits."""
        shm = self._shm
        try:
            if shm is None:
                if self._stopped.is_set():
                    return False
                shm = self._shm = os.open(f"{self.path}-shm", os.O_RDONLY)
            _, _, page, frames = _WAL_INDEX.unpack(os.pread(shm, 8, 12))
        except (OSError, struct.error):
            return False
        if frames * ((page if page != 1 else 65536) + 24) <= self.hold_over:  # a frame's header: 24 bytes
            return False
        self.limits += 1
        self._wake.set()
        return True

    def run(self) -> None:
        conn: sqlite3.Connection | None = None
        frame_bytes = 0
        group = self.group
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopped.is_set():
                break
            try:
                if conn is None:
                    conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                    # Short: while it waits, the group's writes are held.
                    conn.execute("PRAGMA busy_timeout=250")
                    conn.execute(f"PRAGMA journal_size_limit={WAL_FILE_BYTES}")
                    frame_bytes = conn.execute("PRAGMA page_size").fetchone()[0] + 24  # a frame's header
                self.checkpoint(conn, frame_bytes)
            except (sqlite3.Error, OSError):
                continue  # busy or closing (or the write lease's lock failed): the next round catches up
            finally:
                if group is not None:
                    group.unlimit()
        if conn is not None:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection, frame_bytes: int) -> None:
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        # The same count as at the last reset: nothing was written since (the WAL starts again
        # at the next write), so nothing to hold the writes for.
        if frames * frame_bytes <= self.reset_over or frames == self._frames_at_reset:
            return
        # The bulk is copied already; once more for what was written while it was copied, so that
        # what the RESTART copies and syncs while the writes wait is the last moment's frames.
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        group = self.group
        if group is not None:
            group.hold(1.0)
        lease = self.lease
        try:
            if lease is not None:
                lease.take()  # after the hold: this process's own turn is committed by then
            try:
                busy, frames, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            finally:
                if lease is not None:
                    lease.give_back()
        finally:
            if group is not None:
                group.release()
        if not busy:
            self.resets += 1
            self._frames_at_reset = frames

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self.join(5)
        shm, self._shm = self._shm, None
        if shm is not None:
            os.close(shm)
        lease = self.lease
        if lease is not None and not self.is_alive():  # (a thread still in line keeps its files)
            self.lease = None
            lease.close()
