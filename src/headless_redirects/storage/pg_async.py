"""Hot-path statements on asyncpg: one round trip each, prepared.

``Statements`` awaits these (``await_``) from the greenlet ``Database.run`` started, so a
request waits for PostgreSQL on the event loop, never in a thread. asyncpg prepares each
statement once per connection and keeps it (its statement cache), and outside a transaction
a statement commits on its own, so:

- a read shares a round trip with the others of its loop turn (``pg_group``,
  ``fetch_first_of_each``);
- a write of several statements (a session with its outbox event) is made one statement, the
  others as data-modifying ``WITH`` clauses: all-or-nothing as any single statement is. (They
  see the same snapshot, so no step may read another's rows; the hot path's steps are inserts
  of new rows.) Such a write, or one of a single statement, shares a round trip and a commit
  with the others of its loop turn (``pg_group``, ``write_many``);
- a write with guards (redeeming a code once, moving a session from the state it was read in)
  needs the guards' answers before the rest, so it runs as a transaction of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

__all__ = ["combine", "fetch_first_of_each", "fetch_one", "one_row_each", "write", "write_many"]

Step = tuple[str, Sequence[Any]]


async def fetch_one(conn: asyncpg.Connection, sql: str, args: Sequence[Any]) -> tuple[Any, ...] | None:
    row = await conn.fetchrow(sql, *args)
    return None if row is None else tuple(row)


async def write(conn: asyncpg.Connection, steps: Sequence[Step], guards: Sequence[Step]) -> bool:
    """Run ``guards`` (each must change exactly one row) and ``steps`` all-or-nothing; ``False``,
    with nothing written, when a guard changed no row."""
    if not guards:
        sql, args = steps[0] if len(steps) == 1 else combine(steps)
        await conn.execute(sql, *args)
        return True
    try:
        async with conn.transaction():
            for sql, args in guards:
                if _rowcount(await conn.execute(sql, *args)) != 1:
                    raise _GuardFailed
            for sql, args in steps:
                await conn.execute(sql, *args)
    except _GuardFailed:
        return False
    return True


async def write_many(conn: asyncpg.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``sql`` once for each of ``rows``, in one implicit transaction: all or nothing, one commit.
    asyncpg sends every Bind/Execute pair and a single Sync at the end (``pg_group``)."""
    await conn.executemany(sql, rows)


async def fetch_first_of_each(conn: asyncpg.Connection, sql: str,
                              rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...] | None]:
    """The first row of ``sql`` (or ``None``) for each of ``rows``, in one round trip: asyncpg's
    ``fetchmany`` sends a Bind/Execute pair for each and one Sync. It hands back all the rows
    found, one list, so ``sql`` is asked as :func:`one_row_each`, which answers exactly one row
    for each set of arguments, its first column saying whether the statement found one."""
    found = await conn.fetchmany(one_row_each(sql), rows)
    return [None if row[0] is None else tuple(row)[1:] for row in found]


_one_row_each: dict[str, str] = {}


def one_row_each(sql: str) -> str:
    """``sql`` made to answer exactly one row: its first (``LIMIT 1``) after a column that is 1,
    or a row of nulls when it finds none."""
    wrapped = _one_row_each.get(sql)
    if wrapped is None:
        wrapped = ("SELECT hr_first.* FROM (SELECT 1) AS hr_one LEFT JOIN LATERAL "
                   f"(SELECT 1 AS hr_found, hr_q.* FROM ({sql}) AS hr_q LIMIT 1) AS hr_first ON true")
        if len(_one_row_each) < 1000:
            _one_row_each[sql] = wrapped
    return wrapped


_PLACEHOLDER = re.compile(r"\$(\d+)")
_combined: dict[tuple[str, ...], str] = {}


def combine(steps: Sequence[Step]) -> Step:
    """One statement that runs every step: ``WITH s1 AS (step 1), ... last step``, with the
    ``$n`` placeholders renumbered."""
    key = tuple(sql for sql, _ in steps)
    sql = _combined.get(key)
    if sql is None:
        parts, offset = [], 0
        for text, args in steps:
            parts.append(_PLACEHOLDER.sub(_shifted(offset), text))
            offset += len(args)
        sql = "WITH " + ", ".join(f"hr_step_{i} AS ({p})" for i, p in enumerate(parts[:-1])) + " " + parts[-1]
        if len(_combined) < 1000:
            _combined[key] = sql
    return sql, [a for _, args in steps for a in args]


def _shifted(offset: int) -> Callable[[re.Match[str]], str]:
    return lambda match: f"${int(match.group(1)) + offset}"


def _rowcount(status: str) -> int:
    """asyncpg answers ``UPDATE 1``, ``INSERT 0 1``, ...: the last number is the row count."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


class _GuardFailed(Exception):
    pass
