"""Group commit on a server's SQLite database: one commit for the writes of one loop turn, each
write still all-or-nothing, and nothing answered before it is committed."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa

from headless_redirects.storage.database import Database
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from headless_redirects.storage.tables import redirect_sessions, refresh_tokens
from headless_redirects.storage.tokens import RefreshTokenRow
from tests.integration.test_storage import _session


def _count(path: Path) -> int:
    # a separate, plain connection sees only what is committed
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as c:
        value = int(c.execute(sa.select(sa.func.count()).select_from(redirect_sessions)).scalar_one())
    engine.dispose()
    return value


@pytest.fixture
def grouped(tmp_path: Path) -> tuple[Database, Store, Path]:
    path = tmp_path / "group.db"
    db = Database(f"sqlite:///{path}", group_commit=True)
    upgrade(db.engine)
    return db, Store(db), path


def test_writes_of_one_loop_turn_share_a_commit(grouped: tuple[Database, Store, Path]) -> None:
    db, store, path = grouped
    assert db.group is not None
    sessions = [_session(str(uuid.uuid4())) for _ in range(50)]

    async def create(session: object) -> int:
        await db.run(store.sessions.insert, session)  # type: ignore[arg-type]
        return _count(path)  # answered only once committed

    async def main() -> list[int]:
        return await asyncio.gather(*(create(s) for s in sessions))

    before = db.group.commits
    seen = asyncio.run(main())
    assert min(seen) == 50  # every caller saw all 50 rows committed when it got its answer
    assert db.group.commits - before == 1
    db.dispose()


def test_a_failing_write_is_undone_alone(grouped: tuple[Database, Store, Path]) -> None:
    db, store, path = grouped
    existing = _session(str(uuid.uuid4()))
    store.sessions.insert(existing)  # no loop: committed at once
    assert _count(path) == 1
    good = _session(str(uuid.uuid4()))
    c = store.fast

    async def main() -> list[object]:
        async def good_write() -> None:
            await db.run(store.sessions.insert, good)

        async def bad_write() -> None:
            # two steps: the first would insert, the second collides; neither may remain
            fresh = _session(str(uuid.uuid4()))
            await db.run(c.write, store.sessions.insert_step(fresh), store.sessions.insert_step(existing))

        return await asyncio.gather(good_write(), bad_write(), return_exceptions=True)

    results = asyncio.run(main())
    assert results[0] is None and isinstance(results[1], sa.exc.IntegrityError)
    assert _count(path) == 2  # the existing one and the good one; the failed write left nothing
    db.dispose()


def test_a_failing_single_statement_is_undone_alone_without_a_savepoint(
        grouped: tuple[Database, Store, Path]) -> None:
    db, store, path = grouped
    existing = _session(str(uuid.uuid4()))
    store.sessions.insert(existing)
    goods = [_session(str(uuid.uuid4())) for _ in range(3)]
    assert db.group is not None
    seen: list[str] = []
    conn = db.group.conn
    conn.set_trace_callback(seen.append)

    async def main() -> list[object]:
        return await asyncio.gather(*(db.run(store.sessions.insert, g) for g in goods[:2]),
                                    db.run(store.sessions.insert, existing), db.run(store.sessions.insert, goods[2]),
                                    return_exceptions=True)

    results = asyncio.run(main())
    conn.set_trace_callback(None)
    assert results[:2] == [None, None] and results[3] is None and isinstance(results[2], sa.exc.IntegrityError)
    assert _count(path) == 4  # the three good ones share the commit with the failed one's undoing
    assert not any("SAVEPOINT" in statement for statement in seen)
    db.dispose()


def test_when_sqlite_rolls_the_whole_group_back_every_write_of_it_fails(
        grouped: tuple[Database, Store, Path]) -> None:
    """Some errors (a full disk, an I/O error) make SQLite roll back the whole transaction; the
    writes grouped before it must then fail too, never be answered as committed."""
    db, store, path = grouped
    assert db.group is not None
    goods = [_session(str(uuid.uuid4())) for _ in range(2)]

    def doomed(conn: object) -> bool:
        conn.execute("ROLLBACK")  # type: ignore[attr-defined]  # what SQLite does on SQLITE_FULL
        raise sa.exc.OperationalError("INSERT", {}, Exception("database or disk is full"))

    async def main() -> list[object]:
        return await asyncio.gather(*(db.run(store.sessions.insert, g) for g in goods),
                                    db.run(db.group.write, doomed), return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, sa.exc.OperationalError) for r in results), results
    assert _count(path) == 0
    db.dispose()


def test_other_connections_do_not_wait_for_the_group(grouped: tuple[Database, Store, Path]) -> None:
    db, store, path = grouped

    async def main() -> None:
        store.sessions.insert(_session(str(uuid.uuid4())))  # inside the loop: grouped, not yet committed
        assert db.group is not None and db.group.dirty
        store.tokens.revoke("subject", 1)  # a SQLAlchemy transaction: commits the group first, no lock wait
        assert not db.group.dirty

    asyncio.run(main())
    assert _count(path) == 1 and store.tokens.revoked_before("subject") == 1
    db.dispose()


def test_run_then_begins_before_the_turns_commit_and_answers_after_it(
        grouped: tuple[Database, Store, Path]) -> None:
    """``run_then``'s second step (the token endpoint asks for its signature there) begins while
    the write is not yet committed; the caller is answered only once it is."""
    db, store, path = grouped
    seen: list[tuple[str, int]] = []

    def begin(result: object) -> str:
        seen.append(("began", _count(path)))
        return "begun"

    async def main() -> tuple[object, str]:
        answer = await db.run_then(begin, lambda begun: seen.append(("undone", 0)), store.sessions.insert,
                                   _session(str(uuid.uuid4())))
        seen.append(("answered", _count(path)))
        return answer

    assert asyncio.run(main()) == (None, "begun")
    assert seen == [("began", 0), ("answered", 1)]
    db.dispose()


def test_run_then_undoes_what_it_began_when_the_commit_fails(grouped: tuple[Database, Store, Path]) -> None:
    db, store, path = grouped
    assert db.group is not None
    undone: list[object] = []

    def doomed(conn: object) -> bool:
        conn.execute("ROLLBACK")  # type: ignore[attr-defined]  # what SQLite does on SQLITE_FULL
        raise sa.exc.OperationalError("INSERT", {}, Exception("database or disk is full"))

    async def main() -> list[object]:
        return await asyncio.gather(
            db.run_then(lambda _: "signature asked for", undone.append, store.sessions.insert,
                        _session(str(uuid.uuid4()))),
            db.run(db.group.write, doomed), return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, sa.exc.OperationalError) for r in results), results
    assert undone == ["signature asked for"] and _count(path) == 0
    db.dispose()


def _refresh_row(token_hash: str) -> RefreshTokenRow:
    return RefreshTokenRow(token_hash=token_hash, site_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()),
                           subject_type="VISITOR", subject_id=str(uuid.uuid4()), scope="",
                           family_id=str(uuid.uuid4()), issued_at_ms=1, expires_at=2**40)


def test_a_struct_insert_is_grouped_and_a_refused_one_is_undone_alone(
        grouped: tuple[Database, Store, Path]) -> None:
    """``Statements.insert`` (a stored refresh token: the struct's values straight to the
    driver) commits with the turn's other writes; a row the database refuses fails its own
    request as SQLAlchemy's error and leaves the others' rows, and its own values nowhere."""
    db, store, path = grouped
    assert db.group is not None
    store.tokens.insert_refresh_token(_refresh_row("a" * 64))  # no loop: committed at once
    rows = [_refresh_row(c * 64) for c in "bcd"]
    clash = RefreshTokenRow(**{**{f: getattr(rows[0], f) for f in RefreshTokenRow.__struct_fields__},
                               "token_hash": "a" * 64, "scope": "clash"})

    async def main() -> list[object]:
        return await asyncio.gather(*(db.run(store.tokens.insert_refresh_token, r) for r in [rows[0], clash, *rows[1:]]),
                                    return_exceptions=True)

    before = db.group.commits
    results = asyncio.run(main())
    assert results[0] is None and isinstance(results[1], sa.exc.IntegrityError) and results[2:] == [None, None]
    assert db.group.commits - before == 1  # one commit for the turn
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as c:
        stored = {r.token_hash: r.scope for r in c.execute(sa.select(refresh_tokens))}
    engine.dispose()
    assert stored == {"a" * 64: "", "b" * 64: "", "c" * 64: "", "d" * 64: ""}  # the clash changed nothing
    for row in rows:  # each as it was given
        assert store.tokens.refresh_token(row.token_hash) == row
    db.dispose()


def test_none_is_bound_as_null_through_the_registered_adapter(grouped: tuple[Database, Store, Path]) -> None:
    """``None`` reaches SQLite through the adapter ``storage.database`` registers (sqlite3's
    protocol otherwise fails a lookup and formats an error for each one), and is stored as
    ``NULL``: a grouped session insert with empty columns reads back as it was given."""
    import sqlite3

    adapter = sqlite3.adapters.get((type(None), sqlite3.PrepareProtocol))
    assert adapter is not None and adapter(None) is None
    db, store, path = grouped
    session = msgspec.structs.replace(_session(str(uuid.uuid4())), lang=None, creator_type=None, creator_id=None)

    async def main() -> None:
        await db.run(store.sessions.insert, session)

    asyncio.run(main())
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as c:
        nulls = c.execute(sa.select(redirect_sessions.c.client_id.is_(None), redirect_sessions.c.origin.is_(None),
                                    redirect_sessions.c.lang.is_(None), redirect_sessions.c.creator_id.is_(None))
                          .where(redirect_sessions.c.id == session.id)).one()
    engine.dispose()
    assert tuple(nulls) == (True, True, True, True)
    assert store.sessions.get(session.id) == session
    db.dispose()
