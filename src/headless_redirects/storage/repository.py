"""Repositories: every read and write the service makes, one short transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..domain.sessions import RedirectSession
from .database import Database
from .tables import api_keys, apps, redirect_sessions, refresh_tokens, revocations, signing_keys, sites

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


@dataclass(frozen=True, slots=True)
class AppRow:
    client_id: str
    site_id: str
    name: str
    allowed_domains: list[str]
    redirect_uris: list[str]
    created_at: int


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
    created_at: int
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


def _row(cls: Any, row: Any) -> Any:
    return None if row is None else cls(**row._mapping)


class Store:
    """All storage access. Methods are blocking; async callers go through ``Database.run``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine

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

    def insert_api_key(self, key: ApiKeyRow) -> None:
        with self.engine.begin() as c:
            c.execute(api_keys.insert().values(**_fields(key)))

    def get_site(self, site_id: str) -> SiteRow | None:
        with self.engine.connect() as c:
            return _row(SiteRow, c.execute(sa.select(sites).where(sites.c.id == site_id)).first())

    def list_sites(self) -> list[SiteRow]:
        with self.engine.connect() as c:
            return [SiteRow(**r._mapping) for r in c.execute(sa.select(sites).order_by(sites.c.created_at))]

    def get_app(self, client_id: str) -> AppRow | None:
        with self.engine.connect() as c:
            return _row(AppRow, c.execute(sa.select(apps).where(apps.c.client_id == client_id)).first())

    def site_apps(self, site_id: str) -> list[AppRow]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(apps).where(apps.c.site_id == site_id).order_by(apps.c.created_at))
            return [AppRow(**r._mapping) for r in rows]

    def api_key(self, key_hash: str) -> ApiKeyRow | None:
        with self.engine.connect() as c:
            query = sa.select(api_keys).where(api_keys.c.key_hash == key_hash)
            return _row(ApiKeyRow, c.execute(query).first())

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

    def insert_refresh_token(self, token: RefreshTokenRow) -> None:
        with self.engine.begin() as c:
            c.execute(refresh_tokens.insert().values(**_fields(token)))

    def refresh_token(self, token_hash: str) -> RefreshTokenRow | None:
        with self.engine.connect() as c:
            query = sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
            return _row(RefreshTokenRow, c.execute(query).first())

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

    def revoke_refresh_family(self, family_id: str, now: int) -> None:
        with self.engine.begin() as c:
            c.execute(
                refresh_tokens.update()
                .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    def revoked_before(self, subject_id: str) -> int | None:
        with self.engine.connect() as c:
            query = sa.select(revocations.c.revoked_before).where(revocations.c.subject_id == subject_id)
            value = c.execute(query).scalar_one_or_none()
            return None if value is None else int(value)

    def revoke_subject(self, subject_id: str, before: int) -> None:
        """Kill every token of ``subject_id`` issued before ``before`` (logout)."""
        with self.engine.begin() as c:
            updated = c.execute(
                revocations.update()
                .where(revocations.c.subject_id == subject_id)
                .values(revoked_before=sa.func.max(revocations.c.revoked_before, before)
                        if self.db.is_sqlite else sa.func.greatest(revocations.c.revoked_before, before))
            )
            if updated.rowcount == 0:
                c.execute(revocations.insert().values(subject_id=subject_id, revoked_before=before))
            c.execute(
                refresh_tokens.update()
                .where(refresh_tokens.c.subject_id == subject_id, refresh_tokens.c.revoked_at.is_(None))
                .values(revoked_at=before)
            )

    # --- redirect sessions -----------------------------------------------------------------

    def insert_session(self, session: RedirectSession) -> None:
        with self.engine.begin() as c:
            c.execute(redirect_sessions.insert().values(**_fields(session)))

    def get_session(self, session_id: str) -> RedirectSession | None:
        with self.engine.connect() as c:
            query = sa.select(redirect_sessions).where(redirect_sessions.c.id == session_id)
            return _row(RedirectSession, c.execute(query).first())

    def short_link(self, code: str) -> tuple[str, int] | None:
        """``(full_url, expires_at)`` of the session behind a short code."""
        with self.engine.connect() as c:
            query = sa.select(redirect_sessions.c.full_url, redirect_sessions.c.expires_at).where(
                redirect_sessions.c.short_code == code
            )
            row = c.execute(query).first()
            return None if row is None else (row[0], int(row[1]))

    def list_sessions(self, site_id: str | None, limit: int) -> list[RedirectSession]:
        with self.engine.connect() as c:
            query = sa.select(redirect_sessions).order_by(redirect_sessions.c.created_at.desc()).limit(limit)
            if site_id is not None:
                query = query.where(redirect_sessions.c.site_id == site_id)
            return [RedirectSession(**r._mapping) for r in c.execute(query)]

    def purge_expired(self, now: int, keep_seconds: int) -> int:
        """Delete sessions and refresh tokens that expired more than ``keep_seconds`` ago."""
        cutoff = now - keep_seconds
        with self.engine.begin() as c:
            a = c.execute(redirect_sessions.delete().where(redirect_sessions.c.expires_at < cutoff))
            b = c.execute(refresh_tokens.delete().where(refresh_tokens.c.expires_at < cutoff))
            return int(a.rowcount) + int(b.rowcount)


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}
