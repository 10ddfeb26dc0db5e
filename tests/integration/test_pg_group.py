"""Group commit on PostgreSQL (``storage.pg_group``): the plain writes of one event-loop turn go
out together, all or nothing, and each request still hears of its own outcome only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.util.concurrency import greenlet_spawn

from headless_redirects.storage.database import Database
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from headless_redirects.storage.tokens import RefreshTokenRow


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    db = Database(pg_url, pool_size=4)
    upgrade(db.engine)
    yield Store(db)
    db.dispose()


def _row(token_hash: str | None = None) -> RefreshTokenRow:
    return RefreshTokenRow(token_hash=token_hash or uuid.uuid4().hex, site_id="site", client_id="client",
                           subject_type="VISITOR", subject_id="subject", scope="", family_id="family",
                           issued_at_ms=1, expires_at=2)


async def _insert_all(store: Store, rows: list[RefreshTokenRow]) -> list[BaseException | None]:
    """Each row inserted by a request of its own, all in one turn of the loop."""
    return await asyncio.gather(*(store.db.run(store.tokens.insert_refresh_token, row) for row in rows),
                                return_exceptions=True)


def test_the_writes_of_a_turn_commit_together(store: Store) -> None:
    rows = [_row() for _ in range(20)]
    answers = asyncio.run(_insert_all(store, rows))
    assert answers == [None] * 20
    assert store.fast.pg_group.batches == 1  # one executemany for the twenty
    for row in rows:
        assert store.tokens.refresh_token(row.token_hash) == row


def test_a_failing_write_fails_its_own_request_only(store: Store) -> None:
    taken = _row()
    store.tokens.insert_refresh_token(taken)  # a blocking write, before the turn
    rows = [_row(), _row(taken.token_hash), _row()]
    answers = asyncio.run(_insert_all(store, rows))
    assert answers[0] is None and answers[2] is None
    assert isinstance(answers[1], sa.exc.IntegrityError)
    assert store.fast.pg_group.batches == 0  # the batch failed as a whole, then each went alone
    assert store.tokens.refresh_token(rows[0].token_hash) == rows[0]
    assert store.tokens.refresh_token(rows[2].token_hash) == rows[2]


def _server_pid(store: Store) -> int:
    """The backend of the connection the pool hands out next (in a greenlet: the async pool)."""
    pooled = store.db.engine.raw_connection()
    try:
        return int(pooled.driver_connection.get_server_pid())
    finally:
        pooled.close()


def test_a_connection_closed_in_the_pool_costs_no_write(store: Store) -> None:
    async def run() -> list[BaseException | None]:
        await _insert_all(store, [_row()])  # the loop's pool has one connection now
        pid = await greenlet_spawn(_server_pid, store)
        with store.db.engine.connect() as c:  # ... which the server closes while it sits there
            c.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        await asyncio.sleep(0.2)
        return await _insert_all(store, [_row(), _row(), _row()])

    assert asyncio.run(run()) == [None, None, None]  # dropped before use: nothing was sent on it


def test_a_connection_lost_mid_batch_fails_each_request_with_its_own_error(store: Store) -> None:
    held = _row()
    rows = [_row(), _row(held.token_hash), _row()]  # the middle one waits for the lock on held's key

    async def run() -> list[BaseException | None]:
        batch = asyncio.ensure_future(_insert_all(store, rows))
        blocker = store.db.engine.raw_connection()  # blocking (not in a greenlet): psycopg
        try:
            with blocker.cursor() as c:  # holds held's key, uncommitted, so the batch waits
                c.execute("SELECT pg_backend_pid()")
                blocker_pid = c.fetchone()[0]
                c.execute("INSERT INTO refresh_tokens (token_hash, site_id, client_id, subject_type, subject_id, "
                          "scope, family_id, issued_at_ms, expires_at) VALUES (%s, 's', 'c', 'VISITOR', 'x', '', "
                          "'f', 1, 2)", (held.token_hash,))
            blocked: list[int] = []
            for _ in range(100):  # until the batch's backend waits on that lock
                await asyncio.sleep(0.05)
                with store.db.engine.connect() as c:
                    blocked = [r[0] for r in c.exec_driver_sql(
                        f"SELECT pid FROM pg_stat_activity WHERE {int(blocker_pid)} = ANY(pg_blocking_pids(pid))")]
                if blocked:
                    break
            assert len(blocked) == 1
            with store.db.engine.connect() as c:
                c.exec_driver_sql(f"SELECT pg_terminate_backend({blocked[0]})")
            return await batch
        finally:
            blocker.rollback()
            blocker.close()

    answers = asyncio.run(run())
    assert all(isinstance(a, sa.exc.OperationalError) and a.connection_invalidated for a in answers), answers
    assert len({id(a) for a in answers}) == 3  # each request raises an error of its own ...
    for answer, row in zip(answers, rows, strict=True):  # ... naming its own row only
        assert isinstance(answer, sa.exc.OperationalError)
        assert row.token_hash in str(answer.params) and all(
            other.token_hash not in str(answer.params) for other in rows if other is not row)
    assert all(store.tokens.refresh_token(r.token_hash) is None for r in rows)  # all or nothing


async def _read_all(store: Store, hashes: list[str]) -> list[object]:
    return await asyncio.gather(*(store.db.run(store.tokens.refresh_token, h) for h in hashes),
                                return_exceptions=True)


def test_the_reads_of_a_turn_share_a_round_trip(store: Store) -> None:
    rows = [_row() for _ in range(5)]
    for row in rows:
        store.tokens.insert_refresh_token(row)
    missing = [uuid.uuid4().hex for _ in range(3)]
    hashes = [rows[0].token_hash, missing[0], rows[1].token_hash, rows[2].token_hash, missing[1],
              rows[3].token_hash, missing[2], rows[4].token_hash]
    answers = asyncio.run(_read_all(store, hashes))
    assert answers == [rows[0], None, rows[1], rows[2], None, rows[3], None, rows[4]]
    assert store.fast.pg_group.read_batches == 1
    # a statement whose rows are not all alike (a scalar subquery beside the row) reads the same
    async def both() -> list[object]:
        return await asyncio.gather(*(store.db.run(store.tokens.refresh_token_and_revocation, h)
                                      for h in (rows[0].token_hash, missing[0])))

    pairs = asyncio.run(both())
    assert pairs == [(rows[0], None), None]
    assert store.fast.pg_group.read_batches == 2


def test_reads_on_a_lost_connection_are_read_again(store: Store) -> None:
    rows = [_row() for _ in range(3)]
    for row in rows:
        store.tokens.insert_refresh_token(row)

    async def run() -> list[object]:
        await _read_all(store, [rows[0].token_hash])  # the loop's pool has one connection now
        pid = await greenlet_spawn(_server_pid, store)
        with store.db.engine.connect() as c:
            c.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        await asyncio.sleep(0.2)
        return await _read_all(store, [r.token_hash for r in rows])

    assert asyncio.run(run()) == rows
