"""SQLite: the hot-path reads of one loop turn share one read transaction (``storage.turn_reads``),
which ends with the turn, and at once when this process commits."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from headless_redirects.domain.sessions import short_code
from headless_redirects.storage.database import Database
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from headless_redirects.storage.tables import redirect_sessions
from tests.integration.test_storage import _session


class Setup:
    def __init__(self, path: Path) -> None:
        self.db = Database(f"sqlite:///{path}", group_commit=True)
        upgrade(self.db.engine)
        self.store = Store(self.db)
        self.session = _session(str(uuid.uuid4()))
        self.store.sessions.insert(self.session)  # no loop: committed at once
        self.code = short_code(self.session.id)
        # Another process's connection.
        self.other = sqlite3.connect(path, isolation_level=None)
        self.other.execute("PRAGMA busy_timeout=0")

    def url(self) -> str | None:
        found = self.store.sessions.short_link(self.code)
        return None if found is None else found[0]

    def change_elsewhere(self, url: str) -> None:
        self.other.execute("UPDATE redirect_sessions SET full_url = ? WHERE id = ?", (url, self.session.id))

    def restart_is_busy(self) -> bool:
        """Whether a RESTART checkpoint (the WAL's wrap) has to wait for a reader."""
        return bool(self.other.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0])


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path / "turns.db")
    yield s
    s.other.close()
    s.db.dispose()


def test_the_reads_of_one_turn_share_a_snapshot_and_the_next_turn_sees_what_changed(setup: Setup) -> None:
    first_url = setup.session.full_url

    async def main() -> list[object]:
        seen: list[object] = [setup.url()]
        setup.change_elsewhere("https://h/one")
        seen += [setup.url(), setup.restart_is_busy()]  # same turn: the snapshot, held
        await asyncio.sleep(0)  # the next turn
        seen += [setup.restart_is_busy(), setup.url()]
        setup.change_elsewhere("https://h/two")
        await asyncio.sleep(0)
        seen.append(setup.url())
        return seen

    assert asyncio.run(main()) == [first_url, first_url, True, False, "https://h/one", "https://h/two"]


def test_a_commit_of_this_process_is_seen_by_the_next_read_of_the_same_turn(setup: Setup) -> None:
    group = setup.db.group
    assert group is not None
    added = _session(str(uuid.uuid4()))

    async def main() -> list[object]:
        seen: list[object] = [setup.url(), setup.store.sessions.short_link(short_code(added.id))]
        setup.store.sessions.insert(added)  # grouped: not committed yet
        seen.append(setup.store.sessions.short_link(short_code(added.id)))
        group.flush_now()  # the group's commit, as at the start of the next turn
        found = setup.store.sessions.short_link(short_code(added.id))
        seen.append(None if found is None else found[0])
        with setup.db.engine.begin() as c:  # a transaction of SQLAlchemy's, committed at once
            c.execute(sa.update(redirect_sessions).where(redirect_sessions.c.id == setup.session.id)
                      .values(full_url="https://h/mine"))
        seen.append(setup.url())
        return seen

    assert asyncio.run(main()) == [setup.session.full_url, None, None, added.full_url, "https://h/mine"]


def test_reads_off_a_loop_are_their_own(setup: Setup) -> None:
    assert setup.url() == setup.session.full_url
    setup.change_elsewhere("https://h/cli")
    assert setup.url() == "https://h/cli"
    assert not setup.restart_is_busy()


def test_a_loop_closed_mid_turn_leaves_no_reader_behind(setup: Setup) -> None:
    loop = asyncio.new_event_loop()

    def read_then_stop() -> None:
        setup.url()
        loop.stop()  # the turn's end is never run

    loop.call_soon(read_then_stop)
    loop.run_forever()
    loop.close()
    setup.change_elsewhere("https://h/after")
    assert setup.restart_is_busy()  # the closed loop's snapshot still holds the WAL

    async def read() -> str | None:
        return setup.url()

    assert asyncio.run(read()) == "https://h/after"  # the next loop ends it and reads afresh
    assert not setup.restart_is_busy()


def test_dispose_ends_an_open_snapshot(tmp_path: Path) -> None:
    setup = Setup(tmp_path / "dispose.db")
    loop = asyncio.new_event_loop()

    def read_then_stop() -> None:
        setup.url()
        loop.stop()

    loop.call_soon(read_then_stop)
    loop.run_forever()
    setup.change_elsewhere("https://h/x")
    assert setup.restart_is_busy()
    setup.db.dispose()
    assert not setup.restart_is_busy()
    loop.close()
    setup.other.close()


@pytest.mark.parametrize("mapped", [64 << 20, 0])
def test_the_hot_paths_read_connections_map_the_file_and_the_writer_does_not(tmp_path: Path, mapped: int) -> None:
    """``Database.read_connection`` (the turn's and the pooled reads') maps up to
    ``read_mmap_bytes`` of the file (``HEADLESS_REDIRECTS_SQLITE_READ_MMAP_MIB``); the group's
    writer reads with pread, so that the pages it appends stay out of the worker's RSS."""
    path = tmp_path / "mapped.db"
    db = Database(f"sqlite:///{path}", group_commit=True, read_mmap_bytes=mapped)
    try:
        upgrade(db.engine)
        store = Store(db)
        session = _session(str(uuid.uuid4()))
        store.sessions.insert(session)
        assert db.group is not None

        async def read() -> int:
            found = store.sessions.short_link(short_code(session.id))  # on the loop: the turn's connection
            assert found is not None and found[0] == session.full_url
            turn = store.fast.turn.connection()
            assert turn is not None
            return int(turn.execute("PRAGMA mmap_size").fetchone()[0])

        turn_size = asyncio.run(read())
        assert store.sessions.get(session.id) == session  # off a loop: a pooled read connection
        pooled = [c.driver_connection.execute("PRAGMA mmap_size").fetchone()[0] for c in store.fast._held]
        writer = db.group.conn.execute("PRAGMA mmap_size").fetchone()[0]
        assert (turn_size, pooled, writer) == (mapped, [mapped], 0)
    finally:
        db.dispose()


def test_the_setting_reaches_the_database(tmp_path: Path) -> None:
    from headless_redirects.settings import Settings
    from headless_redirects.web.app import create_app

    for settings, expected in ((Settings(database_url=f"sqlite:///{tmp_path}/a.db"), 1024 << 20),
                               (Settings(database_url=f"sqlite:///{tmp_path}/b.db", sqlite_read_mmap_mib=0), 0)):
        services = create_app(settings).services  # type: ignore[attr-defined]
        try:
            assert services.db.read_mmap_bytes == expected
        finally:
            services.db.dispose()
