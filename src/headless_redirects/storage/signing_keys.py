"""The signing keys repository (``service.keys``): every key, shared by all instances, rotated by
the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database
from .rows import values_of
from .tables import signing_keys

__all__ = ["SigningKeyRepository", "SigningKeyRow"]


@dataclass(frozen=True, slots=True)
class SigningKeyRow:
    kid: str
    alg: str
    private_pem: str
    public_jwk: dict[str, Any]
    created_at: int
    retired_at: int | None


class SigningKeyRepository:
    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def all(self) -> list[SigningKeyRow]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(signing_keys).order_by(signing_keys.c.created_at))
            return [SigningKeyRow(**r._mapping) for r in rows]

    def insert_signing_key(self, key: SigningKeyRow) -> None:
        with self.engine.begin() as c:
            c.execute(signing_keys.insert().values(**values_of(key)))

    def retire_signing_keys(self, except_kid: str, now: int) -> None:
        with self.engine.begin() as c:
            c.execute(
                signing_keys.update()
                .where(signing_keys.c.kid != except_kid, signing_keys.c.retired_at.is_(None))
                .values(retired_at=now)
            )
