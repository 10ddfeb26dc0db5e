"""Members: sign-up rules, argon2id passwords (checked off the event loop), and failed-login
limits.

Failed logins are counted per account and per client IP in the database, so every instance
sees the same counts; a locked account or IP is refused before its password is even checked.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from ..domain.sessions import new_guid
from ..storage.database import Database
from ..storage.identity import IdentityStore, MemberRow
from . import counters
from .passwords import MIN_PASSWORD, Passwords

__all__ = ["APPROVED", "BLOCKED", "PENDING", "EmailTaken", "Limits", "LoginFailed", "MemberService",
           "TooManyAttempts"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
APPROVED, PENDING, BLOCKED = "APPROVED", "PENDING", "BLOCKED"


class LoginFailed(Exception):
    """Wrong email or password, or an invalid sign-up; the message is safe to show."""


class EmailTaken(LoginFailed):
    def __init__(self) -> None:
        super().__init__("an account with this email already exists")


class TooManyAttempts(Exception):
    """Too many failed logins for the account or from the IP."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} seconds")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Limits:
    per_account: int = 5
    per_ip: int = 20
    window: int = 900


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str) -> str | None:
    """Why ``email`` (normalized) is not a valid address, or ``None``."""
    return None if _EMAIL.match(email) and len(email) <= 320 else "enter a valid email address"


def check_password(password: str) -> str | None:
    return None if len(password) >= MIN_PASSWORD else f"the password needs at least {MIN_PASSWORD} characters"


class MemberService:
    def __init__(self, store: IdentityStore, limits: Limits | None = None, db: Database | None = None) -> None:
        self.store = store
        self.db = db or store.db
        self.limits = limits or Limits()
        self.passwords = Passwords()
        # Failed-login counters: the database's, or Redis's when configured (``storage.redis_failures``).
        self.failure_store: Any = store

    normalize_email = staticmethod(normalize_email)

    # --- sign-up ---------------------------------------------------------------------------

    def insert(self, site_id: str, email: str, password_hash: str | None, *, status: str = APPROVED,
               email_verified: bool = False, nickname: str | None = None, language: str | None = None) -> MemberRow:
        """Store a new member (``email`` already normalized and checked); :class:`EmailTaken`."""
        now = int(time.time())
        member = MemberRow(new_guid(), site_id, email, password_hash, now, status=status,
                           email_verified=email_verified, nickname=nickname, language=language, updated_at=now)
        try:
            self.store.insert_member(member)
        except sa.exc.IntegrityError:
            raise EmailTaken() from None
        return member

    def create(self, site_id: str, email: str, password: str, **fields: object) -> MemberRow:
        """Blocking sign-up (the CLI): validate, hash, store."""
        email = normalize_email(email)
        problem = check_email(email) or check_password(password)
        if problem:
            raise LoginFailed(problem)
        return self.insert(site_id, email, self.passwords.hash(password), **fields)  # type: ignore[arg-type]

    async def sign_up(self, site_id: str, email: str, password: str, **fields: object) -> MemberRow:
        """Sign-up from a request: the hash is computed off the event loop."""
        email = normalize_email(email)
        problem = check_email(email) or check_password(password)
        if problem:
            raise LoginFailed(problem)
        password_hash = await self.passwords.hash_async(password)
        return await self.db.run(self.insert, site_id, email, password_hash, **fields)  # type: ignore[arg-type]

    # --- login -----------------------------------------------------------------------------

    def _keys(self, site_id: str, email: str, client_ip: str) -> tuple[str, str]:
        return f"login:account:{site_id}:{email}", f"login:ip:{client_ip}"

    def _check_limits(self, keys: tuple[str, str], now: int) -> None:
        for key, limit in zip(keys, (self.limits.per_account, self.limits.per_ip), strict=True):
            if self.failure_store.failures(key, now, self.limits.window) >= limit:
                raise TooManyAttempts(self.limits.window)

    def _before_check(self, site_id: str, email: str, keys: tuple[str, str]) -> MemberRow | None:
        self._check_limits(keys, int(time.time()))
        return self.store.member_by_email(site_id, email)

    def _after_check(self, member: MemberRow | None, ok: bool, keys: tuple[str, str], password: str,
                     new_hash: str | None) -> MemberRow:
        now = int(time.time())
        if member is None or not ok:
            for key in keys:
                self.failure_store.record_failure(key, now, self.limits.window)
            raise LoginFailed("wrong email or password")
        self.failure_store.clear_failures(keys[0])
        values: dict[str, object] = {"last_login_at": now}
        if new_hash is not None:
            values["password_hash"] = new_hash
        self.store.update_member(member.id, **values)
        return replace(member, last_login_at=now)

    async def login(self, site_id: str, email: str, password: str, client_ip: str) -> MemberRow:
        """The member behind a correct email and password (of any status: the caller decides
        what a pending or blocked member gets), or :class:`LoginFailed` / :class:`TooManyAttempts`.
        An unknown email costs a hash check too, so timing does not tell which emails exist."""
        email = normalize_email(email)
        keys = self._keys(site_id, email, client_ip)
        member = await self.db.run(self._before_check, site_id, email, keys)
        ok = await self.passwords.matches_async(member.password_hash if member else None, password)
        new_hash = None
        if ok and member is not None and member.password_hash and self.passwords.needs_rehash(member.password_hash):
            new_hash = await self.passwords.hash_async(password)
        try:
            found = await self.db.run(self._after_check, member, ok, keys, password, new_hash)
        except Exception:
            counters.logins.labels("failure").inc()
            raise
        counters.logins.labels("success").inc()
        return found
