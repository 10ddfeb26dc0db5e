"""The database handle: one SQLAlchemy engine per process, tuned per backend.

SQLite (the default) runs in WAL mode with ``synchronous=NORMAL``: a committed row survives a
killed process. Its calls take microseconds, so they run on the event loop thread; other
backends run their blocking calls in a worker thread so a slow query never stalls the loop.

A server's SQLite database is checkpointed by a background thread instead of by whichever
commit crosses the WAL threshold: the checkpoint (the only step that fsyncs) then never runs on
the event loop, which takes ~30 µs off every write on average and its worst stalls off requests.
A server's hot-path writes also share commits (``group_commit``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread
import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from .group_commit import GroupCommit

__all__ = ["Database", "normalize_url"]

P = ParamSpec("P")
T = TypeVar("T")

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
                 group_commit: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": msgspec.json.decode,
        }
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine = sa.create_engine(self.url, **kwargs)
        self._on_dispose: list[Callable[[], None]] = []
        self._checkpointer: _Checkpointer | None = None
        self.group: GroupCommit | None = None
        if self.is_sqlite and group_commit:
            self.group = GroupCommit(self.engine.raw_connection)
            group = self.group
            # Another connection of this process must not wait for the group's write lock.
            sa.event.listen(self.engine, "begin", lambda _conn: group.flush_now())
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            if background_checkpoints:
                sa.event.listen(self.engine, "connect", _no_autocheckpoint)
                self._checkpointer = _Checkpointer(self.engine)
                self._checkpointer.start()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking storage call from async code (see the module docstring)."""
        if self.is_sqlite:
            result = fn(*args, **kwargs)
            if self.group is not None and self.group.dirty:
                await self.group.durable()  # answer only what is committed
            return result
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class _Checkpointer(threading.Thread):
    """Checkpoints the WAL every ``interval`` seconds on a connection of its own."""

    def __init__(self, engine: sa.Engine, interval: float = 0.5) -> None:
        super().__init__(name="sqlite-checkpointer", daemon=True)
        self.engine = engine
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                with self.engine.connect() as c:
                    c.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except sa.exc.DBAPIError:
                continue  # busy or closing: the next round catches up

    def stop(self) -> None:
        self._stopped.set()
        self.join(5)
