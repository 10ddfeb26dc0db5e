"""Shared fixtures: an app on a fresh SQLite file (and on PostgreSQL where configured), a site
with an OAuth app and API key, and visitor tokens."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from headless_redirects.service.tenancy import NewTenant, create_tenant
from headless_redirects.settings import Settings
from headless_redirects.web.app import create_app
from headless_redirects.web.services import Services

PG_ENV = "HEADLESS_REDIRECTS_TEST_DATABASE_URL"
PUBLIC_URL = "http://127.0.0.1:8080"
ALLOWED_DOMAINS = ["localhost", "127.0.0.1", "shop.example.com", "pinned.example.com:8443"]
REDIRECT_URIS = ["https://shop.example.com/callback", "http://localhost:3000/callback"]
GUID = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"
SESSION_PATH = "/_api/redirects-api/v1/redirect-session"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, made once per run."""
    from headless_redirects.storage.database import Database
    from headless_redirects.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "migrated.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    with db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file we copy
    db.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Any, migrated_sqlite: Path) -> str:
    """A SQLite database of the test's own, migrated already: a copy of ``migrated_sqlite``
    (migrating a fresh file cost each of the suite's app tests ≈ 50 ms; the app's own start-up
    still runs the migrations, which find nothing to do)."""
    shutil.copyfile(migrated_sqlite, tmp_path / "test.db")
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database URL whose search_path is a fresh schema, dropped afterwards."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server to test against")
    from headless_redirects.storage.database import normalize_url

    schema = f"hr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalize_url(base))
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@dataclass
class World:
    client: TestClient
    services: Services
    tenant: NewTenant

    def visitor(self, client_id: str | None = None) -> dict[str, Any]:
        r = self.client.post("/oauth2/token", json={"clientId": client_id or self.tenant.client_id,
                                                    "grantType": "anonymous"})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def create(self, body: Any, token: str | None = None, **headers: str) -> Any:
        if token is None:
            token = self.visitor()["access_token"]
        return self.client.post(SESSION_PATH, json=body, headers={"Authorization": token, **headers})


def make_world(url: str, **settings: Any) -> World:
    app = create_app(Settings(database_url=url, public_url=PUBLIC_URL, tenant_cache_seconds=0, **settings))
    services: Services = app.services  # type: ignore[attr-defined]
    tenant = create_tenant(services.store, name="Test shop", public_url=None,
                           allowed_domains=ALLOWED_DOMAINS, redirect_uris=REDIRECT_URIS)
    return World(TestClient(app, raise_server_exceptions=False), services, tenant)


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    w = make_world(sqlite_url)
    yield w
    w.services.db.dispose()
