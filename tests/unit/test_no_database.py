"""The guard of ``tests/unit/conftest.py``: a unit test that opens a database fails."""

from __future__ import annotations

import sqlite3

import pytest

from headless_redirects.storage.database import Database


def test_opening_a_database_fails_in_unit_tests(tmp_path: object) -> None:
    with pytest.raises(AssertionError, match="opened a database"):
        sqlite3.connect(":memory:")
    with pytest.raises(AssertionError, match="opened a database"):
        Database(f"sqlite:///{tmp_path}/x.db").engine.connect()
