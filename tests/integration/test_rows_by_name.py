"""Issue 9, item 6: the hot-path rows (refresh tokens, authorization codes, API keys) are read by
column name, so a migration that adds a column (to the database and to ``tables``, anywhere in
the table) changes nothing they read. Before, they were built by position from ``SELECT *``:
an added column shifted every value after it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from headless_redirects.service.tenancy import create_tenant
from headless_redirects.storage import identity as identity_module
from headless_redirects.storage import tenancy as tenancy_module
from headless_redirects.storage import tokens as tokens_module
from headless_redirects.storage.database import Database
from headless_redirects.storage.identity import AuthorizationCodeRow, IdentityStore
from headless_redirects.storage.migrate import upgrade
from headless_redirects.storage.repository import Store
from headless_redirects.storage.tables import api_keys, authorization_codes, refresh_tokens
from headless_redirects.storage.tokens import RefreshTokenRow


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


def _migrated(db: Database, table: sa.Table, after: str) -> sa.Table:
    """What a migration adding ``added_later`` right after ``after`` would leave: the column in
    the database, and in the table's declaration at that place."""
    with db.engine.begin() as c:
        c.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN added_later VARCHAR(20) DEFAULT 'new'"))
    columns = [sa.Column(col.name, col.type, primary_key=col.primary_key) for col in table.c]
    at = [col.name for col in table.c].index(after) + 1
    columns.insert(at, sa.Column("added_later", sa.String(20)))
    return sa.Table(table.name, sa.MetaData(), *columns)


def test_rows_read_the_same_after_a_migration_adds_a_column(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(db)
    ident = IdentityStore(db, store.fast)
    tenant = create_tenant(store, name="Shop", public_url=None, allowed_domains=["shop.example.com"],
                           redirect_uris=["https://shop.example.com/cb"])
    now = int(time.time())
    token = RefreshTokenRow("t" * 64, tenant.site_id, tenant.client_id, "MEMBER", "m" * 36, "offline_access",
                            "f" * 36, now * 1000, now + 3600)
    store.tokens.insert_refresh_token(token)
    code = AuthorizationCodeRow("c" * 64, tenant.site_id, tenant.client_id, "m" * 36, "https://shop.example.com/cb",
                                "offline_access", "x" * 43, "S256", "n-1", now, now + 600)
    ident.insert_code(code)
    key = store.tenancy.site_api_keys(tenant.site_id)[0]

    monkeypatch.setattr(tokens_module, "refresh_tokens", _migrated(db, refresh_tokens, "token_hash"))
    monkeypatch.setattr(tenancy_module, "api_keys", _migrated(db, api_keys, "id"))
    monkeypatch.setattr(identity_module, "authorization_codes", _migrated(db, authorization_codes, "site_id"))
    after = Store(db)
    after_ident = IdentityStore(db, after.fast)
    assert after.tokens.refresh_token(token.token_hash) == token
    assert after_ident.code(code.code_hash) == code
    assert after.tenancy.api_key(key.key_hash) == key
