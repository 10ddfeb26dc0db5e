"""Hot-path statements: SQLAlchemy Core, compiled once, executed on the DBAPI connection.

SQLAlchemy's per-execute bookkeeping (execution context, result proxy, pool reset) costs far
more than the work of a SQLite primary-key lookup: on the development machine a lookup takes
~8 µs on the DBAPI connection and ~70-130 µs through ``Connection.execute``. The statements stay
SQLAlchemy Core (one schema, any dialect); only their execution skips the machinery.

SQLite connections are kept in a free list of their own, as many as were ever in use at once
(SQLite work runs on the event-loop thread, so that is one per process); on the loop's thread a
turn's reads share one read transaction (``turn_reads``). On PostgreSQL, inside
``Database.run``, a statement checks a connection out of the async pool and awaits it
(asyncpg, see ``pg_async``: one round trip, prepared); a connection that fails as
disconnected is dropped from the pool, and a read is tried once more on another. Outside ``run`` (the CLI, tests) a
blocking connection of the engine's pool is used.
"""

from __future__ import annotations

import operator
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.util.concurrency import await_

from . import pg_async
from .database import Database
from .pg_group import PgGroup
from .turn_reads import TurnReads

__all__ = ["Compiled", "Statements"]


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    positions: tuple[str, ...] | None  # parameter order for positional paramstyles
    # The same statement for the async driver of a PostgreSQL database (``$n`` placeholders).
    async_sql: str = ""
    async_positions: tuple[str, ...] = ()
    # The order an insert's values are given in (``Statements.compile_insert``: a row struct's
    # fields), which may not be the order of its columns (``positions``).
    fields: tuple[str, ...] = ()
    # The positional values in one C call instead of a generator over the names (measured: 0.9
    # against 0.2 µs for the 22 values of a session's insert).
    _values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(init=False, repr=False, compare=False)
    _async_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(init=False, repr=False, compare=False)

    # ``fields``-ordered values in ``positions``' order (``None``: the same order).
    _reorder: Callable[[Sequence[Any]], tuple[Any, ...]] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_values", _getter(self.positions or ()))
        object.__setattr__(self, "_async_values", _getter(self.async_positions))
        reorder = None
        if self.fields and self.positions is not None and self.positions != self.fields:
            reorder = operator.itemgetter(*(self.fields.index(name) for name in self.positions))
        object.__setattr__(self, "_reorder", reorder)

    def bind(self, params: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.positions is None:
            return params
        return self._values(params)

    def bind_async(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return self._async_values(params)


def _getter(positions: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of ``positions``, in order, as a tuple (``itemgetter`` answers a bare value
    for one name and no call at all for none)."""
    if len(positions) > 1:
        return operator.itemgetter(*positions)
    if len(positions) == 1:
        name = positions[0]
        return lambda params: (params[name],)
    return lambda _params: ()


class Statements:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect = db.engine.dialect
        self._free: deque[Any] = deque()  # append/pop are atomic: no lock needed
        self._held: list[Any] = []
        self._lock = threading.Lock()
        # SQLite: the reads of a loop turn share one read transaction (``turn_reads``).
        self.turn = TurnReads(db.read_connection, db.commits)
        db.on_dispose(self.close)
        # PostgreSQL: the reads of a loop turn share a round trip, and so do its plain writes,
        # with one commit (pg_group).
        self.pg_group = PgGroup(self._write_many, self._write_one, self._read_many, self._read_one, _lost)

    def compile(self, statement: sa.ClauseElement) -> Compiled:
        compiled = statement.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        positions = tuple(getattr(compiled, "positiontup", None) or ()) if self.dialect.positional else None
        if self.db.async_pools is None:
            return Compiled(str(compiled), positions)
        on_async = statement.compile(dialect=self.db.async_pools.dialect, compile_kwargs={"render_postcompile": True})
        return Compiled(str(compiled), positions, str(on_async), tuple(getattr(on_async, "positiontup", None) or ()))

    def compile_insert(self, table: sa.Table, fields: tuple[str, ...]) -> Compiled:
        """:meth:`insert`'s statement: a row of ``table`` whose values are given in the order of
        ``fields`` (a row struct's, every one a column)."""
        compiled = self.compile(table.insert().values({name: sa.bindparam(name) for name in fields}))
        assert compiled.positions is None or sorted(compiled.positions) == sorted(fields), compiled.positions
        return Compiled(compiled.sql, compiled.positions, compiled.async_sql, compiled.async_positions, fields)

    def insert(self, statement: Compiled, values: tuple[Any, ...]) -> None:
        """``write`` of one insert (``statement`` from :meth:`compile_insert`, ``values`` in the
        order of its fields). On a server's SQLite database (grouped commits) the values go to
        the driver without a dict between, on the group's connection without a cursor of its own
        (measured in process: 6.3 -> 4.5 µs a stored refresh token, SQLite's own work 3.4)."""
        group = self.db.group
        if group is None:
            self.write((statement, dict(zip(statement.fields, values, strict=True))))
            return
        reorder = statement._reorder
        if reorder is not None:
            values = reorder(values)
        error = self.dialect.loaded_dbapi.Error

        def run(conn: Any) -> bool:
            try:
                conn.execute(statement.sql, values)
            except error as exc:
                raise self._error(statement, values, exc) from exc
            return True

        group.write(run, False)  # one statement, no guard: no savepoint (``write``)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        if self.db.is_sqlite:
            try:
                conn = self._free.pop()
            except IndexError:
                conn = self.db.read_connection()
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
        if self.db.is_sqlite:
            # The shortest way through (measured, a primary-key select: 8.7 µs through the
            # general branch below, 4.6 µs on the plain DBAPI): no context manager, no cursor of
            # our own; sqlite3 rows are tuples already.
            shared = self.turn.connection()  # this loop turn's reads share a transaction
            if shared is not None:
                try:
                    found: tuple[Any, ...] | None = shared.execute(statement.sql, statement.bind(params)).fetchone()
                    return found
                except self.dialect.loaded_dbapi.Error as exc:
                    raise self._error(statement, params, exc) from exc
            try:
                pooled = self._free.pop()
            except IndexError:
                pooled = self.db.read_connection()
                with self._lock:
                    self._held.append(pooled)
            try:
                found = pooled.driver_connection.execute(statement.sql, statement.bind(params)).fetchone()
                return found
            except self.dialect.loaded_dbapi.Error as exc:
                raise self._error(statement, params, exc) from exc
            finally:
                self._free.append(pooled)
        if self.db.is_async:
            found = await_(self.pg_group.read(statement.async_sql, statement.bind_async(params)))
            return found
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

    async def one_awaited(self, statement: Compiled, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """``one`` on PostgreSQL's async pool, awaited from the loop itself: the turn's grouped
        read (``pg_group``), without a greenlet of the request's own (``Database.run``)."""
        assert self.db.async_pools is not None, "one_awaited reads through the async pool"
        found: tuple[Any, ...] | None = await self.pg_group.read(statement.async_sql, statement.bind_async(params))
        return found

    def write(self, *steps: tuple[Compiled, Mapping[str, Any]],
              guard: tuple[Compiled, Mapping[str, Any]] | None = None,
              guards: Sequence[tuple[Compiled, Mapping[str, Any]]] = ()) -> bool:
        """Run the statements in one transaction and commit. Each guard (``guard``, then
        ``guards``) runs first and must change exactly one row; when one changes none, nothing
        is written and the answer is ``False`` (a compare-and-set, such as redeeming a code
        once, or moving a session from the state it was read in). On a server's SQLite database
        the commit is grouped with the others of the same loop turn (``group_commit``)."""
        checks = ((guard,) if guard is not None else ()) + tuple(guards)
        group = self.db.group
        try:
            if group is not None:
                # One statement and no guard (a guard may fail after changing rows): no savepoint.
                return group.write(lambda conn: self._execute(conn, steps, checks), bool(checks) or len(steps) > 1)
            if self.db.is_async:
                bound = [(s.async_sql, s.bind_async(p)) for s, p in steps]
                if not checks:
                    sql, args = bound[0] if len(bound) == 1 else pg_async.combine(bound)
                    await_(self.pg_group.write(sql, args))
                    return True
                checked = [(g.async_sql, g.bind_async(p)) for g, p in checks]
                return bool(self._run(checks[0][0].async_sql, checks[0][1], pg_async.write, bound, checked))
            with self.connection() as conn:
                try:
                    self._execute(conn, steps, checks)
                    conn.commit()
                    self.db.note_commit()
                    return True
                except BaseException:
                    conn.rollback()
                    raise
        except _GuardFailed:
            return False

    def _read_one(self, sql: str, args: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row of ``sql`` (in a greenlet: ``pg_group``)."""
        try:
            return self._async(sql, args, pg_async.fetch_one, sql, args)  # type: ignore[no-any-return]
        except _Disconnected:  # a connection the server had closed: once more, on another
            try:
                return self._async(sql, args, pg_async.fetch_one, sql, args)  # type: ignore[no-any-return]
            except _Disconnected as exc:
                raise exc.error from None

    def _read_many(self, sql: str, rows: list[Sequence[Any]]) -> list[tuple[Any, ...] | None]:
        """The first row of ``sql`` for each of ``rows``, in one round trip (``pg_group``)."""
        return self._run(sql, rows, pg_async.fetch_first_of_each, sql, rows)  # type: ignore[no-any-return]

    def _write_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        """``sql`` once for each of ``rows``, all or nothing (in a greenlet: ``pg_group``)."""
        self._run(sql, rows, pg_async.write_many, sql, rows)

    def _write_one(self, sql: str, args: Sequence[Any]) -> None:
        self._run(sql, args, pg_async.write, [(sql, args)], [])

    def _run(self, sql: str, params: Any, fn: Any, *args: Any) -> Any:
        """:meth:`_async`, a lost connection raised as SQLAlchemy raises it (not tried again)."""
        try:
            return self._async(sql, params, fn, *args)
        except _Disconnected as exc:
            raise exc.error from None

    def _open_connection(self) -> Any:
        """A connection of the async pool that asyncpg does not know to be closed already. One the
        server closed while it sat in the pool (a restart, a failover, an idle timeout) is dropped
        here, before anything is sent on it: its failure would say nothing of the statement, yet
        a write on it (a whole turn's, ``pg_group``) would have to be reported as of unknown
        outcome."""
        for _ in range(_OPEN_TRIES):
            pooled = self.db.engine.raw_connection()
            conn = pooled.driver_connection
            if conn is not None and not conn.is_closed():
                return pooled
            pooled.invalidate()
            pooled.close()
        return self.db.engine.raw_connection()  # the pool's newest: fails, if it does, as it is

    def _async(self, sql: str, params: Any, fn: Any, *args: Any) -> Any:
        """``fn(connection, *args)`` on a connection of the async pool, awaited from the greenlet.
        Errors are raised as SQLAlchemy raises them (``IntegrityError``...), naming ``sql``."""
        pooled = self._open_connection()
        try:
            return await_(fn(pooled.driver_connection, *args))
        except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError) as exc:
            pooled.invalidate(exc)  # closed and replaced, not given back
            raise _Disconnected(sa.exc.OperationalError(sql, params, exc, connection_invalidated=True)) from exc
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise sa.exc.IntegrityError(sql, params, exc) from exc
        except asyncpg.PostgresError as exc:
            raise sa.exc.DatabaseError(sql, params, exc) from exc
        finally:
            pooled.close()

    def _execute(self, conn: Any, steps: tuple[tuple[Compiled, Mapping[str, Any]], ...],
                 guards: tuple[tuple[Compiled, Mapping[str, Any]], ...]) -> bool:
        """Execute without committing; raises :class:`_GuardFailed` when a guard changed no row
        (the caller rolls back). A failing statement is undone by the database alone."""
        cursor = conn.cursor()
        statement, params = guards[0] if guards else steps[0]
        try:
            for statement, params in guards:
                cursor.execute(statement.sql, statement.bind(params))
                if cursor.rowcount != 1:
                    raise _GuardFailed
            for statement, params in steps:
                cursor.execute(statement.sql, statement.bind(params))
            return True
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._error(statement, params, exc) from exc
        finally:
            cursor.close()

    def close(self) -> None:
        """Give back every held connection (at shutdown)."""
        self.turn.close()
        with self._lock:
            held, self._held = self._held, []
        self._free.clear()
        for conn in held:
            conn.close()


_OPEN_TRIES = 64  # more than a worker's pool holds: each closed one is replaced by a new one


def _lost(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost connection (a write's commit is then unknown)."""
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


class _GuardFailed(Exception):
    """A guard changed no row: the transaction is rolled back and the write answers ``False``."""


class _Disconnected(Exception):
    def __init__(self, error: Exception) -> None:
        self.error = error
