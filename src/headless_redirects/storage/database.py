"""The database handle: one SQLAlchemy engine per process, tuned per backend.

SQLite (the default) runs in WAL mode with ``synchronous=NORMAL``: a committed row survives a
killed process. Its calls take microseconds, so they run on the event loop thread; other
backends run their blocking calls in a worker thread so a slow query never stalls the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread
import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import make_url

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
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
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
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking storage call from async code (see the module docstring)."""
        if self.is_sqlite:
            return fn(*args, **kwargs)
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    def on_dispose(self, callback: Callable[[], None]) -> None:
        self._on_dispose.append(callback)

    def dispose(self) -> None:
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
