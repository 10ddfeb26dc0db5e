"""Tenancy, signing keys and tokens: every read and write of theirs, one short transaction each.
Redirect sessions are in ``sessions``, written through the unit of work (``unit_of_work``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

from .database import Database
from .sessions import SessionStore
from .statements import Compiled, Statements
from .tables import (
    api_keys,
    apps,
    idempotency_keys,
    redirect_sessions,
    refresh_tokens,
    revocations,
    signing_keys,
    sites,
)

T = TypeVar("T")

__all__ = ["ApiKeyRow", "AppRow", "RefreshTokenRow", "SigningKeyRow", "SiteRow", "Store"]


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


@dataclass(frozen=True, slots=True)
class RefreshTokenRow:
    token_hash: str
    site_id: str
    client_id: str
    subject_type: str
    subject_id: str
    scope: str
    family_id: str
    issued_at_ms: int
    expires_at: int
    rotated_at: int | None = None
    revoked_at: int | None = None


@dataclass(frozen=True, slots=True)
class SigningKeyRow:
    kid: str
    alg: str
    private_pem: str
    public_jwk: dict[str, Any]
    created_at: int
    retired_at: int | None


def _named(table: sa.Table, cls: type) -> list[sa.ColumnElement[Any]]:
    """``table``'s columns named like ``cls``'s fields, in the fields' order."""
    return [table.c[f.name] for f in fields(cls)]


_API_KEY_FIELDS = tuple(f.name for f in fields(ApiKeyRow))


def _row(cls: type[T], row: Any) -> T | None:
    return None if row is None else cls(**row._mapping)


class Store:
    """All storage access. Methods are blocking; async callers go through ``Database.run``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine
        self.fast = Statements(db)
        c = self.fast.compile
        p = sa.bindparam
        # The hot path (tokens, create session, short links); see ``statements``.
        self._revoked_before = c(sa.select(revocations.c.revoked_before).where(revocations.c.id == p("a")))
        self._revoked_before_either = c(sa.select(sa.func.max(revocations.c.revoked_before))
                                        .where(revocations.c.id.in_([p("a"), p("b")])))
        # Rows are read by column name: the SELECT names the row class's fields, in their order, so
        # building the row from it positionally costs nothing and a migration that adds a column
        # changes nothing read here.
        self._api_key = c(sa.select(*_named(api_keys, ApiKeyRow)).where(api_keys.c.key_hash == p("key_hash")))
        self._refresh_token = c(sa.select(*_named(refresh_tokens, RefreshTokenRow))
                                .where(refresh_tokens.c.token_hash == p("token_hash")))
        self._insert_refresh = c(refresh_tokens.insert().values({col.name: p(col.name) for col in refresh_tokens.c}))
        self.sessions = SessionStore(db, self.fast)

    # --- tenancy ---------------------------------------------------------------------------

    def count_sites(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(sites)).scalar_one())

    def create_tenant(self, site: SiteRow, app: AppRow, key: ApiKeyRow) -> None:
        with self.engine.begin() as c:
            c.execute(sites.insert().values(**_fields(site)))
            c.execute(apps.insert().values(**_fields(app)))
            c.execute(api_keys.insert().values(**_fields(key)))

    def insert_app(self, app: AppRow) -> None:
        with self.engine.begin() as c:
            c.execute(apps.insert().values(**_fields(app)))

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
            c.execute(api_keys.insert().values(**_fields(key)))

    def update_site(self, site_id: str, **values: Any) -> bool:
        with self.engine.begin() as c:
            return c.execute(sites.update().where(sites.c.id == site_id).values(**values)).rowcount == 1

    def get_site(self, site_id: str) -> SiteRow | None:
        with self.engine.connect() as c:
            return _row(SiteRow, c.execute(sa.select(sites).where(sites.c.id == site_id)).first())

    def get_app(self, client_id: str) -> AppRow | None:
        with self.engine.connect() as c:
            return _row(AppRow, c.execute(sa.select(apps).where(apps.c.client_id == client_id)).first())

    def site_apps(self, site_id: str) -> list[AppRow]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(apps).where(apps.c.site_id == site_id).order_by(apps.c.created_at))
            return [AppRow(**r._mapping) for r in rows]

    def api_key(self, key_hash: str) -> ApiKeyRow | None:
        row = self.fast.one(self._api_key, {"key_hash": key_hash})
        if row is None:
            return None
        values = dict(zip(_API_KEY_FIELDS, row, strict=True))
        values["scopes"] = _json(values["scopes"])
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

    # --- signing keys ----------------------------------------------------------------------

    def signing_keys(self) -> list[SigningKeyRow]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(signing_keys).order_by(signing_keys.c.created_at))
            return [SigningKeyRow(**r._mapping) for r in rows]

    def insert_signing_key(self, key: SigningKeyRow) -> None:
        with self.engine.begin() as c:
            c.execute(signing_keys.insert().values(**_fields(key)))

    def retire_signing_keys(self, except_kid: str, now: int) -> None:
        with self.engine.begin() as c:
            c.execute(
                signing_keys.update()
                .where(signing_keys.c.kid != except_kid, signing_keys.c.retired_at.is_(None))
                .values(retired_at=now)
            )

    # --- tokens ----------------------------------------------------------------------------

    def insert_refresh_step(self, token: RefreshTokenRow) -> tuple[Compiled, dict[str, Any]]:
        """The insert of ``token`` as a step of a larger hot-path transaction."""
        return self._insert_refresh, _fields(token)

    def insert_refresh_token(self, token: RefreshTokenRow) -> None:
        self.fast.write((self._insert_refresh, _fields(token)))

    def refresh_token(self, token_hash: str) -> RefreshTokenRow | None:
        row = self.fast.one(self._refresh_token, {"token_hash": token_hash})
        return None if row is None else RefreshTokenRow(*row)

    def rotate_refresh_token(self, old_hash: str, new: RefreshTokenRow, now: int) -> bool:
        """Mark ``old_hash`` rotated and store ``new``, atomically; ``False`` if another request
        rotated it first."""
        with self.engine.begin() as c:
            result = c.execute(
                refresh_tokens.update()
                .where(refresh_tokens.c.token_hash == old_hash, refresh_tokens.c.rotated_at.is_(None))
                .values(rotated_at=now)
            )
            if result.rowcount != 1:
                return False
            c.execute(refresh_tokens.insert().values(**_fields(new)))
            return True

    def revoked_before(self, *ids: str) -> int | None:
        """The latest revocation (Unix ms) of a subject or family among ``ids`` (one or two)."""
        if len(ids) == 1:
            row = self.fast.one(self._revoked_before, {"a": ids[0]})
        else:
            row = self.fast.one(self._revoked_before_either, {"a": ids[0], "b": ids[1]})
        return None if row is None or row[0] is None else int(row[0])

    def revoke(self, revoked_id: str, before_ms: int) -> None:
        """Kill every token of a subject or refresh family issued before ``before_ms``."""
        with self.engine.begin() as c:
            greatest = sa.func.max if self.db.is_sqlite else sa.func.greatest
            updated = c.execute(
                revocations.update()
                .where(revocations.c.id == revoked_id)
                .values(revoked_before=greatest(revocations.c.revoked_before, before_ms))
            )
            if updated.rowcount == 0:
                try:
                    with c.begin_nested():
                        c.execute(revocations.insert().values(id=revoked_id, revoked_before=before_ms))
                except sa.exc.IntegrityError:  # another instance inserted it first
                    c.execute(
                        revocations.update()
                        .where(revocations.c.id == revoked_id)
                        .values(revoked_before=greatest(revocations.c.revoked_before, before_ms))
                    )

    def revoke_refresh_token(self, token_hash: str, now: int) -> None:
        with self.engine.begin() as c:
            c.execute(
                refresh_tokens.update()
                .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    # --- housekeeping ---------------------------------------------------------------------

    def purge_expired(self, now: int, keep_seconds: int) -> int:
        """Delete sessions and refresh tokens that expired more than ``keep_seconds`` ago, and
        idempotency keys past their retention."""
        cutoff = now - keep_seconds
        with self.engine.begin() as c:
            a = c.execute(redirect_sessions.delete().where(redirect_sessions.c.expires_at < cutoff))
            b = c.execute(refresh_tokens.delete().where(refresh_tokens.c.expires_at < cutoff))
            k = c.execute(idempotency_keys.delete().where(idempotency_keys.c.expires_at <= now))
            return int(a.rowcount) + int(b.rowcount) + int(k.rowcount)


def _json(value: Any) -> Any:
    """A JSON column read on the DBAPI connection: text on SQLite, parsed by psycopg."""
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}
