"""The checkpointer's hold on group commit (``GroupCommit.hold``/``release``): the open group is
committed, storage calls wait on the loop without blocking it, and they run once released; a
checkpoint in that moment empties the WAL (the checkpointer's RESTART, or a TRUNCATE as below). The soak test with a real server is
tests/e2e/test_wal_bounded.py."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from pathlib import Path

from headless_redirects.domain.sessions import short_code
from headless_redirects.storage.database import Database, _Checkpointer
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from tests.integration.test_group_commit import _count
from tests.integration.test_storage import _session


def test_a_hold_commits_the_group_and_holds_storage_calls_until_released(tmp_path: Path) -> None:
    path = tmp_path / "hold.db"
    db = Database(f"sqlite:///{path}", group_commit=True)
    upgrade(db.engine)
    store = Store(db)
    group = db.group
    assert group is not None

    async def main() -> None:
        await db.run(store.sessions.insert, _session(str(uuid.uuid4())))
        store.sessions.insert(_session(str(uuid.uuid4())))  # grouped, not yet committed
        assert group.dirty
        assert await asyncio.to_thread(group.hold, 5.0)
        assert not group.dirty and _count(path) == 2  # the open group was committed first
        waiting = asyncio.create_task(db.run(store.sessions.insert, _session(str(uuid.uuid4()))))
        cancelled = asyncio.create_task(db.run(store.sessions.insert, _session(str(uuid.uuid4()))))
        for _ in range(5):
            await asyncio.sleep(0)  # the loop runs on; the calls wait
        cancelled.cancel()
        assert not waiting.done() and _count(path) == 2
        # While held, a TRUNCATE checkpoint on another connection empties the WAL.
        conn = sqlite3.connect(path, isolation_level=None)
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        conn.close()
        assert busy == 0 and os.stat(f"{path}-wal").st_size == 0
        await asyncio.to_thread(group.release)
        await waiting  # a cancelled waiter did not cancel the others' wait
        assert cancelled.cancelled() and _count(path) == 3

    asyncio.run(main())
    db.dispose()


def _checkpointed(path: Path) -> tuple[Database, Store, _Checkpointer]:
    """A server's database (grouped writes, the checkpointer) whose WAL restarts past 256 KiB."""
    db = Database(f"sqlite:///{path}", group_commit=True, background_checkpoints=True)
    upgrade(db.engine)
    checkpointer = db._checkpointer
    assert checkpointer is not None
    checkpointer.reset_over = 256 * 1024
    return db, Store(db), checkpointer


def test_the_checkpointer_restarts_a_wal_past_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    db, store, checkpointer = _checkpointed(path)

    async def main() -> None:
        while checkpointer.resets == 0:  # bounded by the test's own limit below
            await asyncio.gather(*(db.run(store.sessions.insert, _session(str(uuid.uuid4()))) for _ in range(50)))
            assert _count(path) < 200_000, "the checkpointer never restarted the WAL"

    asyncio.run(main())
    db.dispose()


def test_the_wal_restarts_while_every_turn_reads(tmp_path: Path) -> None:
    """Reads do not wait for the hold (``Database.read``), and each turn's shared read transaction
    (``turn_reads``) ends with its turn: the RESTART still gets through under reads and writes."""
    db, store, checkpointer = _checkpointed(tmp_path / "reads.db")
    read = _session(str(uuid.uuid4()))
    store.sessions.insert(read)
    code = short_code(read.id)

    async def main() -> int:
        done = False
        reads = 0

        async def reader() -> None:
            nonlocal reads
            while not done:
                assert await db.read(store.sessions.short_link, code) is not None
                reads += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(reader())
        deadline = asyncio.get_running_loop().time() + 60
        try:
            while checkpointer.resets < 3:
                await asyncio.gather(*(db.run(store.sessions.insert, _session(str(uuid.uuid4()))) for _ in range(50)))
                assert asyncio.get_running_loop().time() < deadline, "the WAL was not restarted under reads"
        finally:
            done = True
            await task
        return reads

    assert asyncio.run(main()) > 0
    db.dispose()


def test_commits_past_the_hold_bound_wait_for_the_checkpointer(tmp_path: Path) -> None:
    """The WAL stays bounded however slow the checkpointer's own rounds are: here they are an
    hour apart, and only the loop's commits past ``hold_over`` bring them on. Such a commit closes
    the gate, so the writes wait while the round copies the WAL and restarts it: the file stays
    within the bound and a turn's writes, and every write is committed."""
    path = tmp_path / "held.db"
    db, store, checkpointer = _checkpointed(path)
    checkpointer.interval = 3600.0  # after the round that may have begun already
    checkpointer.hold_over = 512 * 1024
    wal = Path(f"{path}-wal")

    async def main() -> tuple[int, int]:
        peak = written = 0
        for _ in range(150):
            await asyncio.gather(*(db.run(store.sessions.insert, _session(str(uuid.uuid4()))) for _ in range(40)))
            written += 40
            peak = max(peak, wal.stat().st_size)
        return peak, written

    peak, written = asyncio.run(main())
    assert checkpointer.limits > 0 and checkpointer.resets > 0
    # A turn's 40 inserts write ~270 KiB of frames; without the bound the WAL would reach ~35 MiB.
    assert peak < 2 * checkpointer.hold_over, f"the WAL reached {peak} bytes"
    assert _count(path) == written
    db.dispose()
