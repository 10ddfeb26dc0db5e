"""Hot-path statements: SQLAlchemy Core, compiled once, executed on the DBAPI connection.

SQLAlchemy's per-execute bookkeeping (execution context, result proxy, pool reset) costs far
more than the work of a SQLite primary-key lookup: on the development machine a lookup takes
~8 µs on the DBAPI connection and ~70-130 µs through ``Connection.execute``. The statements stay
SQLAlchemy Core (one schema, any dialect); only their execution skips the machinery.

SQLite connections are kept in a free list of their own, as many as were ever in use at once
(SQLite work runs on the event-loop thread, so that is one per process); other databases check
a connection out of the engine's pool per call, which pings and replaces dead connections.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database

__all__ = ["Compiled", "Statements"]


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    positions: tuple[str, ...] | None  # parameter order for positional paramstyles

    def bind(self, params: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.positions is None:
            return params
        return tuple(params[name] for name in self.positions)


class Statements:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect = db.engine.dialect
        self._free: deque[Any] = deque()  # append/pop are atomic: no lock needed
        self._held: list[Any] = []
        self._lock = threading.Lock()
        db.on_dispose(self.close)

    def compile(self, statement: sa.ClauseElement) -> Compiled:
        compiled = statement.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        positions = tuple(getattr(compiled, "positiontup", None) or ()) if self.dialect.positional else None
        return Compiled(str(compiled), positions)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        if self.db.is_sqlite:
            try:
                conn = self._free.pop()
            except IndexError:
                conn = self.db.engine.raw_connection()
                with self._lock:
                    self._held.append(conn)
            try:
                yield conn.driver_connection
            finally:
                self._free.append(conn)
            return
        pooled = self.db.engine.raw_connection()
        try:
            yield pooled.driver_connection
        finally:
            pooled.close()

    def _error(self, statement: Compiled, params: Any, exc: Exception) -> Exception:
        """The DBAPI error wrapped as SQLAlchemy wraps it (IntegrityError, OperationalError...)."""
        return sa.exc.DBAPIError.instance(statement.sql, params, exc, self.dialect.loaded_dbapi.Error)

    def one(self, statement: Compiled, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        with self.connection() as conn:
            cursor = conn.cursor()
            try:
                cursor.execute(statement.sql, statement.bind(params))
                row = cursor.fetchone()
            except self.dialect.loaded_dbapi.Error as exc:
                if not self.db.is_sqlite:
                    conn.rollback()
                raise self._error(statement, params, exc) from exc
            finally:
                cursor.close()
            if not self.db.is_sqlite:
                conn.rollback()  # end the read transaction before the connection goes back
            return None if row is None else tuple(row)

    def write(self, *steps: tuple[Compiled, Mapping[str, Any]],
              guard: tuple[Compiled, Mapping[str, Any]] | None = None) -> bool:
        """Run the statements in one transaction and commit. A ``guard`` runs first and must
        change exactly one row; when it changes none, nothing is written and the answer is
        ``False`` (a compare-and-set, such as redeeming a code once). On a server's SQLite
        database the commit is grouped with the others of the same loop turn (``group_commit``)."""
        group = self.db.group
        if group is not None:
            return group.write(lambda conn: self._execute(conn, steps, guard))
        with self.connection() as conn:
            try:
                wrote = self._execute(conn, steps, guard)
                if wrote:
                    conn.commit()
                else:
                    conn.rollback()
                return wrote
            except BaseException:
                conn.rollback()
                raise

    def _execute(self, conn: Any, steps: tuple[tuple[Compiled, Mapping[str, Any]], ...],
                 guard: tuple[Compiled, Mapping[str, Any]] | None) -> bool:
        """Execute without committing; ``False`` when the guard changed no row (then it and
        nothing else changed anything). A failing statement is undone by the database alone."""
        cursor = conn.cursor()
        statement, params = guard or steps[0]
        try:
            if guard is not None:
                cursor.execute(statement.sql, statement.bind(params))
                if cursor.rowcount != 1:
                    return False
            for statement, params in steps:
                cursor.execute(statement.sql, statement.bind(params))
            return True
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._error(statement, params, exc) from exc
        finally:
            cursor.close()

    def close(self) -> None:
        """Give back every held connection (at shutdown)."""
        with self._lock:
            held, self._held = self._held, []
        self._free.clear()
        for conn in held:
            conn.close()
