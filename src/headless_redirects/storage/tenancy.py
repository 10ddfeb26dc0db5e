"""The tenancy repository: sites, their OAuth apps and API keys. Blocking, one short transaction
each; async callers go through ``Database.run``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa

from .database import Database
from .rows import json_column, named_columns, row_of, values_of
from .statements import Statements
from .tables import api_keys, apps, sites

__all__ = ["ApiKeyRow", "AppRow", "SiteRow", "TenancyRepository"]


@dataclass(frozen=True, slots=True)
class SiteRow:
    id: str
    name: str
    base_url: str | None
    languages: list[str]
    page_settings: dict[str, Any]
    flow_provider: str
    created_at: int
    registration_policy: str = "open"


@dataclass(frozen=True, slots=True)
class AppRow:
    client_id: str
    site_id: str
    name: str
    allowed_domains: list[str]
    redirect_uris: list[str]
    created_at: int
    allowed_origins: list[str] = field(default_factory=list)
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    key_hash: str
    site_id: str
    name: str
    scopes: list[str]
    created_at: int
    revoked_at: int | None


_API_KEY_FIELDS = tuple(f.name for f in fields(ApiKeyRow))


class TenancyRepository:
    def __init__(self, db: Database, fast: Statements) -> None:
        self.engine = db.engine
        self.fast = fast
        # API keys are read on the hot path (create session with an API key).
        self._api_key = fast.compile(sa.select(*named_columns(api_keys, ApiKeyRow))
                                     .where(api_keys.c.key_hash == sa.bindparam("key_hash")))

    def count_sites(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(sites)).scalar_one())

    def create_tenant(self, site: SiteRow, app: AppRow, key: ApiKeyRow) -> None:
        with self.engine.begin() as c:
            c.execute(sites.insert().values(**values_of(site)))
            c.execute(apps.insert().values(**values_of(app)))
            c.execute(api_keys.insert().values(**values_of(key)))

    def insert_app(self, app: AppRow) -> None:
        with self.engine.begin() as c:
            c.execute(apps.insert().values(**values_of(app)))

    def update_app(self, client_id: str, **values: Any) -> bool:
        values["updated_at"] = time.time_ns() // 1_000_000
        with self.engine.begin() as c:
            return c.execute(apps.update().where(apps.c.client_id == client_id).values(**values)).rowcount == 1

    def all_apps(self) -> list[AppRow]:
        with self.engine.connect() as c:
            return [AppRow(**r._mapping) for r in c.execute(sa.select(apps).order_by(apps.c.created_at))]

    def apps_fingerprint(self) -> tuple[int, int]:
        """(number of apps, latest change): changes whenever an app is created or updated."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(apps.c.updated_at), 0))
                            .select_from(apps)).one()
            return int(row[0]), int(row[1])

    def insert_api_key(self, key: ApiKeyRow) -> None:
        with self.engine.begin() as c:
            c.execute(api_keys.insert().values(**values_of(key)))

    def update_site(self, site_id: str, **values: Any) -> bool:
        with self.engine.begin() as c:
            return c.execute(sites.update().where(sites.c.id == site_id).values(**values)).rowcount == 1

    def get_site(self, site_id: str) -> SiteRow | None:
        with self.engine.connect() as c:
            return row_of(SiteRow, c.execute(sa.select(sites).where(sites.c.id == site_id)).first())

    def get_app(self, client_id: str) -> AppRow | None:
        with self.engine.connect() as c:
            return row_of(AppRow, c.execute(sa.select(apps).where(apps.c.client_id == client_id)).first())

    def site_apps(self, site_id: str) -> list[AppRow]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(apps).where(apps.c.site_id == site_id).order_by(apps.c.created_at))
            return [AppRow(**r._mapping) for r in rows]

    def api_key(self, key_hash: str) -> ApiKeyRow | None:
        row = self.fast.one(self._api_key, {"key_hash": key_hash})
        if row is None:
            return None
        values = dict(zip(_API_KEY_FIELDS, row, strict=True))
        values["scopes"] = json_column(values["scopes"])
        return ApiKeyRow(**values)

    def site_api_keys(self, site_id: str) -> list[ApiKeyRow]:
        with self.engine.connect() as c:
            query = sa.select(api_keys).where(api_keys.c.site_id == site_id).order_by(api_keys.c.created_at)
            return [ApiKeyRow(**r._mapping) for r in c.execute(query)]

    def revoke_api_key(self, key_id: str, now: int) -> bool:
        with self.engine.begin() as c:
            result = c.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return result.rowcount == 1
