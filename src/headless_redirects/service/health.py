"""Readiness (``/readyz``): whether this instance can serve, as a typed result."""

from __future__ import annotations

import msgspec

from ..storage.database import Database
from ..storage.health import ping

__all__ = ["Readiness", "readiness"]


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    database_ok: bool


def readiness(db: Database) -> Readiness:
    """Blocking; run it through ``Database.run``. Any failure of the database means not ready."""
    try:
        ping(db)
    except Exception:  # noqa: BLE001 - whatever the driver raises, the instance cannot serve
        return Readiness(database_ok=False)
    return Readiness(database_ok=True)
