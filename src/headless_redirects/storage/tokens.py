"""The token repository: refresh tokens (their digests) and revocations of subjects and refresh
families. Read on the hot path through compiled statements (``statements``).

Every authenticated request asks whether its token's subject or grant was revoked. A server
answers that from memory (``remember``), as SPEC §13 allows for revocations: a revocation made
in the process forgets the memory at once; one made elsewhere (another instance or worker, the
CLI) reaches it at once on PostgreSQL (a trigger on ``revocations`` notifies, migration 0008,
``changes``), and in any case when the answer's time in memory runs out: under a second, on
PostgreSQL too, since a connection that listens can stop hearing without an error (a half-open
TCP connection, a pooler that drops LISTEN).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec
import sqlalchemy as sa

from .changes import ALL, ChangeFeed
from .database import Database
from .rows import named_columns, values_of
from .statements import Compiled, Statements
from .tables import refresh_tokens, revocations

__all__ = ["RefreshTokenRow", "TokenRepository"]


class RefreshTokenRow(msgspec.Struct, frozen=True):
    """A stored refresh token (its digest). Made on every ``anonymous`` token and read on every
    refresh: a struct, as ``domain.lifecycle.RedirectSession`` is (3.2 µs to make as a frozen
    dataclass, 0.4 as a struct, timed with ``timeit``)."""

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


class TokenRepository:
    def __init__(self, db: Database, fast: Statements) -> None:
        self.db = db
        self.engine = db.engine
        self.fast = fast
        c, p = fast.compile, sa.bindparam
        self._revoked_before = c(sa.select(revocations.c.revoked_before).where(revocations.c.id == p("a")))
        self._revoked_before_either = c(sa.select(sa.func.max(revocations.c.revoked_before))
                                        .where(revocations.c.id.in_([p("a"), p("b")])))
        self._refresh_token = c(sa.select(*named_columns(refresh_tokens, RefreshTokenRow))
                                .where(refresh_tokens.c.token_hash == p("token_hash")))
        # The refresh grant's one read: the token's row and the latest revocation of its subject
        # or family, together.
        self._refresh_and_revoked = c(
            sa.select(*named_columns(refresh_tokens, RefreshTokenRow),
                      sa.select(sa.func.max(revocations.c.revoked_before))
                      .where(revocations.c.id.in_([refresh_tokens.c.subject_id, refresh_tokens.c.family_id]))
                      .scalar_subquery())
            .where(refresh_tokens.c.token_hash == p("token_hash")))
        self._insert_refresh = fast.compile_insert(refresh_tokens, RefreshTokenRow.__struct_fields__)
        # ids -> (until, revoked_before); off (nothing kept) until ``remember``.
        self._memory: dict[tuple[str, ...], tuple[float, int | None]] = {}
        self._generation = 0
        self._lock = threading.Lock()  # the change listener's thread forgets too
        self._ttl = 0.0
        self.clock: Callable[[], float] = time.monotonic  # of the memory; tests move it on

    def remember(self, ttl: float, changes: ChangeFeed | None = None) -> None:
        """Answer ``revoked_before`` from memory for ``ttl`` seconds, and forget on a change
        ``changes`` announces (see the module text). 0 keeps nothing."""
        self._ttl = ttl
        if changes is not None:
            changes.subscribe(self._changed)

    def _changed(self, table: str) -> None:
        if table in ("revocations", ALL):
            self._forget()

    def _forget(self) -> None:
        # A new dictionary rather than clear(): a reader keeps a whole one. A read that began
        # before this is not kept (its generation is gone): it may have missed the change.
        with self._lock:
            self._generation += 1
            self._memory = {}

    def insert_refresh_step(self, token: RefreshTokenRow) -> tuple[Compiled, dict[str, Any]]:
        """The insert of ``token`` as a step of a larger hot-path transaction."""
        return self._insert_refresh, values_of(token)

    def insert_refresh_token(self, token: RefreshTokenRow) -> None:
        self.fast.insert(self._insert_refresh, msgspec.structs.astuple(token))

    def refresh_token(self, token_hash: str) -> RefreshTokenRow | None:
        row = self.fast.one(self._refresh_token, {"token_hash": token_hash})
        return None if row is None else RefreshTokenRow(*row)

    def refresh_token_and_revocation(self, token_hash: str) -> tuple[RefreshTokenRow, int | None] | None:
        """The row of a refresh token and the latest revocation (Unix ms) of its subject or
        family (``revoked_before`` of both), read in one statement; ``None`` if no such token."""
        row = self.fast.one(self._refresh_and_revoked, {"token_hash": token_hash})
        if row is None:
            return None
        return RefreshTokenRow(*row[:-1]), None if row[-1] is None else int(row[-1])

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
            c.execute(refresh_tokens.insert().values(**values_of(new)))
            return True

    def revoked_before(self, *ids: str) -> int | None:
        """The latest revocation (Unix ms) of a subject or family among ``ids`` (one or two)."""
        now = self.clock()
        hit = self._memory.get(ids)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        if len(ids) == 1:
            row = self.fast.one(self._revoked_before, {"a": ids[0]})
        else:
            row = self.fast.one(self._revoked_before_either, {"a": ids[0], "b": ids[1]})
        found = None if row is None or row[0] is None else int(row[0])
        keep = self._ttl
        if keep > 0:
            with self._lock:
                if generation == self._generation:
                    if len(self._memory) >= 10_000:
                        self._memory = {}
                    self._memory[ids] = (now + keep, found)
        return found

    def revoke(self, revoked_id: str, before_ms: int) -> None:
        """Kill every token of a subject or refresh family issued before ``before_ms``."""
        try:
            self._revoke(revoked_id, before_ms)
        finally:
            self._forget()  # once committed (or failed): nothing read before it is answered again

    def _revoke(self, revoked_id: str, before_ms: int) -> None:
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
