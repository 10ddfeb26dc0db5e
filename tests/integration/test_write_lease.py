"""Several server processes on one SQLite file take turns at writing (``storage.write_lease``):
a process waits for the other's turn off its event loop, a holder goes behind a process already
waiting, and the checkpointer's RESTART waits its turn too. "Another process" here is a second
handle on the same files: the locks belong to open files, so it excludes as a process would."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from headless_redirects.settings import Settings
from headless_redirects.storage.database import Database, _Checkpointer
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from headless_redirects.storage.write_lease import WriteLease
from tests.integration.test_storage import _session

T = TypeVar("T")


def _run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, bounded: a lease that is never given back fails the test, not hangs it."""
    return asyncio.run(asyncio.wait_for(main, 20))


def _taken_later(lease: WriteLease) -> threading.Event:
    done = threading.Event()
    lease.take_later(lambda error: done.set() if error is None else None)
    return done


def test_a_holder_goes_behind_a_process_that_waits(tmp_path: Path) -> None:
    path = str(tmp_path / "lease.db")
    mine, other = WriteLease(path), WriteLease(path)
    try:
        assert mine.try_take()
        assert not other.try_take()  # held
        waited = _taken_later(other)
        assert not waited.wait(0.2)  # still waiting in line
        mine.give_back()
        # At once, before the waiting one may even have run: it is in line, so the lease is not
        # taken back past it.
        assert not mine.try_take()
        assert waited.wait(5)
        assert not mine.try_take()  # the other one holds it now
        other.give_back()
        assert mine.try_take()
        mine.give_back()
    finally:
        mine.close()
        other.close()


def _grouped(path: Path, *, lease: bool) -> tuple[Database, Store]:
    db = Database(f"sqlite:///{path}", group_commit=True, write_lease=lease)
    upgrade(db.engine)
    return db, Store(db)


@pytest.mark.parametrize("count", [1, 20])
def test_a_write_waits_for_the_other_process_with_the_loop_turning(tmp_path: Path, count: int) -> None:
    path = tmp_path / "lease.db"
    db, store = _grouped(path, lease=True)
    other = WriteLease(str(path))
    assert other.try_take()
    # The other process writes in its turn: SQLite's write lock is taken too.
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO redirect_sessions SELECT * FROM redirect_sessions WHERE 0")
    ticks_while_waiting = threading.Event()

    def other_turn() -> None:
        # Its turn ends once this process's loop was seen turning while its writes waited (or
        # after 5 s, when the loop was stuck: the assertion below then fails).
        ticks_while_waiting.wait(5)
        writer.execute("COMMIT")
        other.give_back()

    sessions = [_session(str(uuid.uuid4())) for _ in range(count)]

    async def main() -> int:
        writes = asyncio.gather(*(db.run(store.sessions.insert, s) for s in sessions))  # type: ignore[arg-type]
        ticks = 0
        while not writes.done():
            await asyncio.sleep(0.01)
            ticks += 1
            if ticks == 5:
                ticks_while_waiting.set()
        await writes
        return ticks

    holder = threading.Thread(target=other_turn)
    holder.start()
    try:
        ticks = _run(main())
    finally:
        ticks_while_waiting.set()
        holder.join(10)
    assert ticks >= 5
    assert db.group is not None and db.group.lease is not None
    assert not db.group.lease.held  # given back once its writes were committed
    assert other.try_take()  # ... so the other process can have its next turn
    other.give_back()
    check = sqlite3.connect(path)
    assert check.execute("SELECT count(*) FROM redirect_sessions").fetchone()[0] == count
    check.close()
    writer.close()
    other.close()
    db.dispose()


def test_without_the_lease_the_loop_stops_for_the_other_process(tmp_path: Path) -> None:
    """The cause, kept in view: with SQLite's busy handler alone the loop does not turn while
    the other process holds the write lock."""
    path = tmp_path / "nolease.db"
    db, store = _grouped(path, lease=False)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO redirect_sessions SELECT * FROM redirect_sessions WHERE 0")
    events: list[str] = []

    def commit() -> None:
        writer.execute("COMMIT")
        events.append("their commit")

    timer = threading.Timer(0.5, commit)

    async def main() -> int:
        write = asyncio.ensure_future(db.run(store.sessions.insert, _session(str(uuid.uuid4()))))
        ticks = 0
        while not write.done():
            await asyncio.sleep(0.01)
            ticks += 1
        await write
        events.append("my write")
        return ticks

    timer.start()
    try:
        ticks = asyncio.run(main())
    finally:
        timer.join(5)
    assert events == ["their commit", "my write"]  # the write waited for the other's commit
    assert ticks <= 2  # ... on the loop, which did not turn meanwhile
    writer.close()
    db.dispose()


def test_a_use_case_that_writes_nothing_gives_the_lease_back(tmp_path: Path) -> None:
    path = tmp_path / "lease.db"
    db, store = _grouped(path, lease=True)
    assert db.group is not None and db.group.lease is not None

    def get_holding_the_lease(session_id: str) -> object:
        assert db.group is not None and db.group.lease is not None and db.group.lease.held
        return store.sessions.get(session_id)

    async def main() -> None:
        assert await db.run(get_holding_the_lease, "nothing") is None
        assert not db.group.lease.held  # type: ignore[union-attr]
        with pytest.raises(ZeroDivisionError):
            await db.run(lambda: 1 / 0)
        assert not db.group.lease.held  # type: ignore[union-attr]

    _run(main())
    other = WriteLease(str(path))
    assert other.try_take()
    other.close()
    db.dispose()


def _write_flat_out(path: str, name: str, ready: Any, start: Any, rounds: int, lease: bool = True) -> None:
    """A process that writes as a server does, 8 requests at a time, on its own loop, from
    the moment ``start`` is set."""
    db = Database(f"sqlite:///{path}", group_commit=True, write_lease=lease)
    store = Store(db)
    ready.release()

    async def main() -> None:
        for _ in range(rounds):
            await asyncio.gather(*(db.run(store.sessions.insert, _session(name)) for _ in range(8)))

    start.wait(30)
    asyncio.run(main())
    db.dispose()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    """Two processes write flat out at once, each as a server does: every write is committed
    and none fails on SQLite's lock. (Whether they alternate depends on how the machine
    schedules them; that a holder goes behind a waiting process is tested on its own.)"""
    path = tmp_path / "lease.db"
    db, _ = _grouped(path, lease=False)  # migrated once, before the writers start
    db.dispose()
    spawn = multiprocessing.get_context("spawn")
    ready, start = spawn.Semaphore(0), spawn.Event()
    rounds = 60
    writers = [spawn.Process(target=_write_flat_out, args=(str(path), name, ready, start, rounds))
               for name in ("first", "second")]
    for writer in writers:
        writer.start()
    try:
        for _ in writers:  # both have started up (imports, the database opened)
            assert ready.acquire(timeout=60)
        start.set()
        for writer in writers:
            writer.join(60)
        assert [writer.exitcode for writer in writers] == [0, 0]
    finally:
        for writer in writers:
            if writer.is_alive():
                writer.kill()
                writer.join()
    check = sqlite3.connect(path)
    counts = dict(check.execute("SELECT site_id, count(*) FROM redirect_sessions GROUP BY site_id").fetchall())
    check.close()
    assert counts == {"first": rounds * 8, "second": rounds * 8}


def test_the_loop_goes_behind_a_process_waiting_for_its_turn(tmp_path: Path) -> None:
    """This process writes; meanwhile another one gets in line. Its next write, asked for at
    once, waits for the other's turn: the rows are in the order mine, theirs, mine."""
    path = tmp_path / "lease.db"
    db, store = _grouped(path, lease=True)
    other = WriteLease(str(path))
    theirs = Database(f"sqlite:///{path}")  # the other process's own connections
    in_line = threading.Event()

    def their_turn(error: BaseException | None) -> None:  # on the other handle's thread
        try:
            if error is None:
                Store(theirs).sessions.insert(_session("theirs"))
        finally:
            other.give_back()

    def mine_while_they_get_in_line(session: object) -> None:
        store.sessions.insert(session)  # type: ignore[arg-type]
        other.take_later(their_turn)
        in_line.wait(0.3)  # (never set: time for their thread to block in line)

    async def main() -> None:
        await db.run(mine_while_they_get_in_line, _session("mine-1"))
        await db.run(store.sessions.insert, _session("mine-2"))  # type: ignore[arg-type]

    _run(main())
    check = sqlite3.connect(path)
    order = [row[0] for row in check.execute("SELECT site_id FROM redirect_sessions ORDER BY rowid")]
    check.close()
    assert order == ["mine-1", "theirs", "mine-2"]
    theirs.dispose()
    other.close()
    db.dispose()


def test_the_checkpointer_restarts_the_wal_in_its_turn(tmp_path: Path) -> None:
    path = tmp_path / "lease.db"
    db, store = _grouped(path, lease=False)

    async def fill() -> None:
        await asyncio.gather(*(db.run(store.sessions.insert, _session(str(uuid.uuid4()))) for _ in range(50)))

    asyncio.run(fill())
    other = WriteLease(str(path))
    checkpointer = _Checkpointer(str(path), None, reset_over=0, lease=WriteLease(str(path)))
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    frame = conn.execute("PRAGMA page_size").fetchone()[0] + 24
    assert other.try_take()
    restart = threading.Thread(target=checkpointer.checkpoint, args=(conn, frame))
    restart.start()
    try:
        restart.join(0.5)
        assert restart.is_alive()  # waiting for the other process's turn to end
        assert checkpointer.resets == 0
    finally:
        other.give_back()
        restart.join(5)
    assert checkpointer.resets == 1
    conn.close()
    other.close()
    assert checkpointer.lease is not None
    checkpointer.lease.close()  # never started as a thread: its files closed by hand
    db.dispose()


@pytest.mark.parametrize(("workers", "leased"), [(1, False), (2, True)])
def test_a_server_with_several_workers_takes_the_lease(tmp_path: Path, workers: int, leased: bool) -> None:
    from headless_redirects.bootstrap import bootstrap

    services = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/s.db", workers=workers,
                                  public_url="http://127.0.0.1:8080", webhook_dispatcher=False))
    try:
        assert services.db.group is not None
        assert (services.db.group.lease is not None) is leased
        checkpointer = services.db._checkpointer
        assert checkpointer is not None and (checkpointer.lease is not None) is leased
    finally:
        services.db.dispose()


def test_a_database_closed_while_its_writes_wait_in_line_fails_them(tmp_path: Path) -> None:
    """Shutting down while another process holds the lease: the waiting write fails with an
    error of its own (no stray exception from the lease's thread), and nothing is left held."""
    path = tmp_path / "lease.db"
    db, store = _grouped(path, lease=True)
    other = WriteLease(str(path))
    assert other.try_take()

    async def main() -> BaseException | None:
        write = asyncio.ensure_future(db.run(store.sessions.insert, _session("mine")))  # type: ignore[arg-type]
        await asyncio.sleep(0.1)  # waiting in line
        assert not write.done()
        assert db.group is not None
        db.group.close()  # what dispose does
        other.give_back()  # the lease's thread gets it, on closed files
        try:
            await asyncio.wait_for(write, 5)
        except RuntimeError as exc:
            return exc
        return None

    error = _run(main())
    assert isinstance(error, RuntimeError) and "closed" in str(error)
    assert other.try_take()  # nothing of the closed database holds it
    other.close()
    db.dispose()


def test_a_write_left_in_line_by_a_loop_that_ended_does_not_hold_up_the_next_loop(tmp_path: Path) -> None:
    """A loop ends (its write given up) while its write waits in line; once the other process's
    turn is over, the lease is given back, and the next loop of the process writes."""
    path = tmp_path / "lease.db"
    db, store = _grouped(path, lease=True)
    other = WriteLease(str(path))
    assert other.try_take()

    async def given_up() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(db.run(store.sessions.insert, _session("first")), 0.2)  # type: ignore[arg-type]

    asyncio.run(given_up())  # that loop is closed, its lease's thread still in line
    other.give_back()  # the thread gets the lease for a closed loop: it gives it back
    _run(db.run(store.sessions.insert, _session("second")))  # type: ignore[arg-type]
    assert db.group is not None and db.group.lease is not None and not db.group.lease.held
    assert other.try_take()
    other.close()
    check = sqlite3.connect(path)
    assert [row[0] for row in check.execute("SELECT site_id FROM redirect_sessions")] == ["second"]
    check.close()
    db.dispose()


def test_readiness_and_reads_do_not_wait_for_the_write_lease(tmp_path: Path) -> None:
    """Another worker holds the lease (and keeps it): ``/readyz`` and a read-only route answer
    all the same; they write nothing."""
    import httpx

    from headless_redirects.web.app import create_app

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/s.db", workers=2,
                              public_url="http://127.0.0.1:8080", webhook_dispatcher=False))
    other = WriteLease(f"{tmp_path}/s.db")
    assert other.try_take()

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            ready = await client.get("/readyz")
            info = await client.post("/oauth2/token-info", data={"token": "not-a-token"})
            return [ready.status_code, info.status_code]

    try:
        statuses = _run(main())
    finally:
        other.give_back()
        other.close()
        app.services.db.dispose()  # type: ignore[attr-defined]
    assert statuses[0] == 200
    assert statuses[1] < 500
