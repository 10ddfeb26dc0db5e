"""The unit tests (domain, and services on the in-memory fakes of ``tests/fakes.py``) run without
any database: opening one here fails the test, so a unit test cannot come to need one unseen."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest
import sqlalchemy


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a unit test opened a database: use tests/fakes.py, or move it to tests/app")


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for target, name in ((sqlite3, "connect"), (sqlalchemy, "create_engine"), (psycopg, "connect"),
                         (psycopg.Connection, "connect"), (asyncpg, "connect"), (asyncpg, "create_pool")):
        monkeypatch.setattr(target, name, _refuse)
    yield

