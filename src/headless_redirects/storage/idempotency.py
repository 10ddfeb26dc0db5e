"""Idempotency keys of create session (SPEC §12): the first response per caller and key.

A key is taken by inserting its row (the primary key makes one request win, on every backend
and across instances); the winner's response is written in the same transaction as the session
it created (``completion_step``), so a crash never leaves a stored session without its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database
from .statements import Compiled, Statements
from .tables import idempotency_keys

__all__ = ["IdempotencyStore", "Taken"]

k = idempotency_keys


@dataclass(frozen=True, slots=True)
class Taken:
    """What became of an attempt to take a key: ``new`` (go ahead), ``replay`` (the stored
    answer), ``mismatch`` (another body) or ``in_flight`` (the first request is still running)."""

    outcome: str
    status_code: int | None = None
    response: str | None = None


class IdempotencyStore:
    def __init__(self, db: Database, fast: Statements) -> None:
        self.engine = db.engine
        self.fast = fast
        p = sa.bindparam
        self._complete = fast.compile(k.update().where(k.c.key_hash == p("key_hash"))
                                      .values(status_code=p("status_code"), response=p("response")))

    def take(self, key_hash: str, request_hash: str, now_ms: int, expires_at: int, stale_ms: int) -> Taken:
        with self.engine.begin() as c:
            row = c.execute(sa.select(k).where(k.c.key_hash == key_hash)).first()
            if row is None:
                try:
                    with c.begin_nested():
                        c.execute(k.insert().values(key_hash=key_hash, request_hash=request_hash, status_code=None,
                                                    response=None, created_at=now_ms, expires_at=expires_at))
                    return Taken("new")
                except sa.exc.IntegrityError:  # another request (or instance) took it first
                    row = c.execute(sa.select(k).where(k.c.key_hash == key_hash)).first()
                    assert row is not None
            if row.expires_at * 1000 <= now_ms or (row.status_code is None and row.created_at + stale_ms <= now_ms):
                # past its retention, or abandoned by a request that died: start over
                taken = c.execute(k.update().where(k.c.key_hash == key_hash, k.c.created_at == row.created_at)
                                  .values(request_hash=request_hash, status_code=None, response=None,
                                          created_at=now_ms, expires_at=expires_at)).rowcount == 1
                return Taken("new") if taken else Taken("in_flight")
            if row.request_hash != request_hash:
                return Taken("mismatch")
            if row.status_code is None:
                return Taken("in_flight")
            return Taken("replay", int(row.status_code), str(row.response))

    def completion_step(self, key_hash: str, status_code: int, response: str) -> tuple[Compiled, Mapping[str, Any]]:
        """Storing the answer, as a step of the transaction that stores the session."""
        return self._complete, {"key_hash": key_hash, "status_code": status_code, "response": response}

    def complete(self, key_hash: str, status_code: int, response: str) -> None:
        """Store an answer that created nothing (a refused request), on its own."""
        with self.engine.begin() as c:
            c.execute(k.update().where(k.c.key_hash == key_hash).values(status_code=status_code, response=response))

    def release(self, key_hash: str) -> None:
        """Forget a key whose request failed on our side, so that a retry can run."""
        with self.engine.begin() as c:
            c.execute(k.delete().where(k.c.key_hash == key_hash, k.c.status_code.is_(None)))

    def purge(self, now: int) -> int:
        with self.engine.begin() as c:
            return int(c.execute(k.delete().where(k.c.expires_at <= now)).rowcount)
