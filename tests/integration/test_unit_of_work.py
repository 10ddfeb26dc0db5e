"""The SQL unit of work (``storage.unit_of_work``) on SQLite and PostgreSQL: blocking (the CLI's
way), and inside ``Database.run`` on a running loop (SQLite's group commit, PostgreSQL's async
pool), which is how the server writes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from headless_redirects.domain.lifecycle import CREATED, OPENED, RedirectSession
from headless_redirects.service.unit_of_work import Conflict, UnitOfWork
from headless_redirects.storage.database import Database
from headless_redirects.storage.idempotency import IdempotencyStore
from headless_redirects.storage.identity import AuthorizationCodeRow
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from headless_redirects.storage.tables import authorization_codes, idempotency_keys
from headless_redirects.storage.unit_of_work import SqlUnitOfWork, SqlWrites


def _session() -> RedirectSession:
    now, sid = int(time.time()), str(uuid.uuid4())
    return RedirectSession(sid, "site-1", None, "auth", {"clientId": "c"}, {"postFlowUrl": "https://a.com/?x=ü"},
                           {}, None, "en", None, None, CREATED, now, now + 600, f"https://h/a?id={sid}")


def _code(site_id: str = "site-1") -> AuthorizationCodeRow:
    now = int(time.time())
    return AuthorizationCodeRow(uuid.uuid4().hex, site_id, "c", "m", None, "", None, None, None, now, now + 60)


@pytest.fixture(params=["blocking", "in-loop"])
def run(request: pytest.FixtureRequest) -> Callable[[Database, Callable[[], Any]], Any]:
    def blocking(db: Database, fn: Callable[[], Any]) -> Any:
        return fn()

    def in_loop(db: Database, fn: Callable[[], Any]) -> Any:
        async def main() -> Any:
            return await db.run(fn)

        return asyncio.run(main())

    return blocking if request.param == "blocking" else in_loop


@pytest.fixture
def parts(database_url: str) -> Iterator[tuple[Database, Store, Callable[[], UnitOfWork]]]:
    db = Database(database_url, group_commit=True)
    upgrade(db.engine)
    store = Store(db)
    writes = SqlWrites(store.sessions, IdempotencyStore(db, store.fast))
    yield db, store, lambda: SqlUnitOfWork(writes)
    db.dispose()


def test_a_unit_writes_everything_together(parts: Any, run: Any) -> None:
    db, store, uow = parts
    s, code = _session(), _code()
    with db.engine.begin() as c:
        c.execute(idempotency_keys.insert().values(key_hash="k1", request_hash="r", created_at=0,
                                                   expires_at=int(time.time()) + 60))

    def create() -> None:
        with uow() as unit:
            unit.sessions.add(s)
            unit.codes.add(code)
            unit.answers.add("k1", 200, '{"ok":true}')
            unit.commit()

    run(db, create)
    assert store.sessions.get(s.id) == s
    with db.engine.connect() as c:
        assert c.execute(sa.select(authorization_codes.c.code_hash)).scalars().all() == [code.code_hash]
        assert c.execute(sa.select(idempotency_keys.c.response)).scalar_one() == '{"ok":true}'


def test_leaving_without_commit_writes_nothing(parts: Any, run: Any) -> None:
    db, store, uow = parts
    s = _session()

    def forget() -> None:
        with uow() as unit:
            unit.sessions.add(s)

    run(db, forget)
    assert store.sessions.get(s.id) is None


def test_a_move_is_written_only_from_the_version_it_was_read_at(parts: Any, run: Any) -> None:
    db, store, uow = parts
    s = _session()
    store.sessions.insert(s)
    now = int(time.time())

    def race() -> None:
        first, second = uow(), uow()
        a, b = first.sessions.get(s.id), second.sessions.get(s.id)
        first.sessions.save(a, a.open(now, "browser-a"))
        second.sessions.save(b, b.open(now, "browser-b"))
        second.codes.add(_code())  # staged with the losing move: must not be written either
        first.commit()
        with pytest.raises(Conflict):
            second.commit()

    run(db, race)
    stored = store.sessions.get(s.id)
    assert stored is not None and stored.state == OPENED and stored.bound_browser == "browser-a"
    assert stored.version == 1
    with db.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(authorization_codes)).scalar_one() == 0


def test_one_failed_guard_undoes_the_others(parts: Any, run: Any) -> None:
    db, store, uow = parts
    one, two = _session(), _session()
    store.sessions.insert(one)
    store.sessions.insert(two)
    now = int(time.time())
    stale = two
    with uow() as unit:
        unit.sessions.save(two, two.open(now, "elsewhere"))
        unit.commit()

    def both() -> None:
        with uow() as unit:
            unit.sessions.save(one, one.open(now, "b"))
            unit.sessions.save(stale, stale.open(now, "b"))
            with pytest.raises(Conflict):
                unit.commit()

    run(db, both)
    first = store.sessions.get(one.id)
    assert first is not None and first.state == CREATED and first.version == 0  # rolled back with the other
