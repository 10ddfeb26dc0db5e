"""The repositories, one per aggregate, over one database and one statement layer:

- ``sessions``: redirect sessions (``sessions``; written through the unit of work, ``unit_of_work``);
- ``tenancy``: sites, apps, API keys (``tenancy``);
- ``signing_keys``: the token signing keys (``signing_keys``);
- ``tokens``: refresh tokens and revocations (``tokens``).

Members, codes and browser sessions are ``identity.IdentityStore``; webhooks ``webhooks``."""

from __future__ import annotations

from .database import Database
from .sessions import SessionStore
from .signing_keys import SigningKeyRepository
from .statements import Statements
from .tables import idempotency_keys, redirect_sessions, refresh_tokens
from .tenancy import TenancyRepository
from .tokens import TokenRepository

__all__ = ["Store"]


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine
        self.fast = Statements(db)
        self.sessions = SessionStore(db, self.fast)
        self.tenancy = TenancyRepository(db, self.fast)
        self.signing_keys = SigningKeyRepository(db)
        self.tokens = TokenRepository(db, self.fast)

    def purge_expired(self, now: int, keep_seconds: int) -> int:
        """Delete sessions and refresh tokens that expired more than ``keep_seconds`` ago, and
        idempotency keys past their retention."""
        cutoff = now - keep_seconds
        with self.engine.begin() as c:
            a = c.execute(redirect_sessions.delete().where(redirect_sessions.c.expires_at < cutoff))
            b = c.execute(refresh_tokens.delete().where(refresh_tokens.c.expires_at < cutoff))
            k = c.execute(idempotency_keys.delete().where(idempotency_keys.c.expires_at <= now))
            return int(a.rowcount) + int(b.rowcount) + int(k.rowcount)
