"""The readiness probe's query: the cheapest statement that proves the database answers."""

from __future__ import annotations

import sqlalchemy as sa

from .database import Database

__all__ = ["ping"]


def ping(db: Database) -> None:
    """Raises whatever the driver raises when the database cannot answer."""
    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
