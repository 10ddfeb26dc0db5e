"""The repository layer on real databases: SQLite and PostgreSQL (through one fixture)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from headless_redirects.domain.lifecycle import CREATED, RedirectSession
from headless_redirects.domain.sessions import short_code
from headless_redirects.service.keys import KeyRing
from headless_redirects.service.secrets import digest
from headless_redirects.service.tenancy import create_tenant
from headless_redirects.storage.database import Database
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from headless_redirects.storage.tables import metadata
from headless_redirects.storage.tokens import RefreshTokenRow


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    db = Database(database_url)
    upgrade(db.engine)
    yield Store(db)
    db.dispose()


def _session(site_id: str, *, expires_at: int | None = None) -> RedirectSession:
    now = int(time.time())
    sid = str(uuid.uuid4())
    return RedirectSession(
        id=sid, site_id=site_id, client_id=None, intent="ecomCheckout",
        params={"checkoutId": sid}, callbacks={"postFlowUrl": "https://a.com/?x=ü"},
        preferences={"maintainIdentity": True}, origin=None, lang="de", creator_type="VISITOR",
        creator_id=str(uuid.uuid4()), state=CREATED, created_at=now,
        expires_at=expires_at or now + 3600, full_url=f"https://h/flow?id={sid}",
    )


def test_migrations_match_the_tables(store: Store) -> None:
    with store.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), metadata)
    assert diff == []


def test_migrations_are_idempotent(store: Store) -> None:
    upgrade(store.engine)  # a second start changes nothing
    assert store.tenancy.count_sites() == 0


def test_tenant_round_trip(store: Store) -> None:
    t = create_tenant(store, name="Shop", public_url="https://shop.example.com", allowed_domains=["Shop.Example.com"],
                      redirect_uris=["https://shop.example.com/cb"])
    site = store.tenancy.get_site(t.site_id)
    assert site is not None and site.base_url == "https://shop.example.com"
    app = store.tenancy.get_app(t.client_id)
    assert app is not None and app.allowed_domains == ["shop.example.com"] and app.redirect_uris == ["https://shop.example.com/cb"]
    key = store.tenancy.api_key(digest(t.api_key))
    assert key is not None and key.scopes == ["SCOPE.PROMOTE.VIEW-SEO"] and key.site_id == t.site_id
    assert t.api_key not in str(key)  # only the hash is stored
    assert [a.client_id for a in store.tenancy.site_apps(t.site_id)] == [t.client_id]


def test_sessions_round_trip_and_short_links(store: Store) -> None:
    s = _session(str(uuid.uuid4()))
    store.sessions.insert(s)
    assert store.sessions.get(s.id) == s
    assert store.sessions.short_link(short_code(s.id)) == (s.full_url, s.expires_at)
    assert store.sessions.short_link("missing") is None
    assert store.sessions.short_link(short_code(str(uuid.uuid4()))) is None
    with pytest.raises(sa.exc.IntegrityError):
        store.sessions.insert(s)


def test_purge_removes_only_long_expired_rows(store: Store) -> None:
    site = str(uuid.uuid4())
    old, live = _session(site, expires_at=1000), _session(site)
    store.sessions.insert(old)
    store.sessions.insert(live)
    assert store.purge_expired(int(time.time()), keep_seconds=60) == 1
    assert store.sessions.get(old.id) is None and store.sessions.get(live.id) is not None


def _refresh(family: str) -> RefreshTokenRow:
    now = int(time.time())
    return RefreshTokenRow(digest(uuid.uuid4().hex), "s", "c", "VISITOR", "subj-" + family[:8], "", family,
                           now * 1000, now + 60)


def test_concurrent_rotation_has_one_winner(store: Store) -> None:
    family = str(uuid.uuid4())
    first = _refresh(family)
    store.tokens.insert_refresh_token(first)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def rotate() -> None:
        barrier.wait()
        results.append(store.tokens.rotate_refresh_token(first.token_hash, _refresh(family), int(time.time())))

    threads = [threading.Thread(target=rotate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]


def test_revocations(store: Store) -> None:
    subject, family = str(uuid.uuid4()), str(uuid.uuid4())
    assert store.tokens.revoked_before(subject) is None
    assert store.tokens.revoked_before(subject, family) is None
    store.tokens.revoke(subject, 5000)
    store.tokens.revoke(subject, 4000)  # never moves back
    assert store.tokens.revoked_before(subject) == 5000
    store.tokens.revoke(family, 7000)
    assert store.tokens.revoked_before(subject, family) == 7000
    assert store.tokens.revoked_before(family, subject) == 7000


def test_signing_keys_are_shared_between_instances(store: Store) -> None:
    a = KeyRing(store.signing_keys, issuer="http://x")
    a.load()
    b = KeyRing(Store(store.db).signing_keys, issuer="http://x")
    b.load()
    token = a.sign({"sub": "s", "iss": "http://x", "iat": time.time(), "exp": int(time.time()) + 60})
    assert b.verify(token)["sub"] == "s"
    assert len(store.signing_keys.all()) == 1


def test_background_checkpoints_move_the_wal_into_the_database(tmp_path: Any) -> None:
    """With autocheckpoint off, only the checkpointer thread copies committed pages from the WAL
    into the database file: the file grows without any request doing it."""
    path = tmp_path / "wal.db"
    db = Database(f"sqlite:///{path}", background_checkpoints=True)
    try:
        upgrade(db.engine)
        time.sleep(0.8)  # let the schema itself be checkpointed
        store = Store(db)
        before = path.stat().st_size
        for _ in range(300):
            store.sessions.insert(_session(str(uuid.uuid4())))
        with store.fast.connection() as conn:
            assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        deadline = time.monotonic() + 5
        while path.stat().st_size <= before:
            assert time.monotonic() < deadline, "nothing checkpointed the WAL"
            time.sleep(0.1)
        assert db._checkpointer is not None and db._checkpointer.is_alive()
    finally:
        db.dispose()
    assert db._checkpointer is not None and not db._checkpointer.is_alive()
