"""Apply the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

__all__ = ["upgrade"]

_MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: instances starting together take turns to migrate a PostgreSQL database.
_PG_LOCK = 0x4852_5244


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
