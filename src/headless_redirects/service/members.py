"""Members: sign-up and login with argon2id passwords, and failed-login limits.

Failed logins are counted per account and per client IP in the database, so every instance
sees the same counts; a locked account or IP is refused before its password is even checked.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.sessions import new_guid
from ..storage.identity import IdentityStore, MemberRow

__all__ = ["LoginFailed", "MemberService", "TooManyAttempts"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


class LoginFailed(Exception):
    """Wrong email or password, or an invalid sign-up; the message is safe to show."""


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


class MemberService:
    def __init__(self, store: IdentityStore, limits: Limits | None = None) -> None:
        self.store = store
        self.limits = limits or Limits()
        self.hasher = PasswordHasher()  # argon2id at the library's defaults
        self._dummy_hash: str | None = None

    @staticmethod
    def normalize_email(email: str) -> str:
        return email.strip().lower()

    def create(self, site_id: str, email: str, password: str) -> MemberRow:
        email = self.normalize_email(email)
        if not _EMAIL.match(email) or len(email) > 320:
            raise LoginFailed("enter a valid email address")
        if len(password) < MIN_PASSWORD:
            raise LoginFailed(f"the password needs at least {MIN_PASSWORD} characters")
        member = MemberRow(new_guid(), site_id, email, self.hasher.hash(password), int(time.time()))
        try:
            self.store.insert_member(member)
        except sa.exc.IntegrityError:
            raise LoginFailed("an account with this email already exists") from None
        return member

    def login(self, site_id: str, email: str, password: str, client_ip: str) -> MemberRow:
        email = self.normalize_email(email)
        now = int(time.time())
        keys = (f"login:account:{site_id}:{email}", f"login:ip:{client_ip}")
        limits = (self.limits.per_account, self.limits.per_ip)
        for key, limit in zip(keys, limits, strict=True):
            if self.store.failures(key, now, self.limits.window) >= limit:
                raise TooManyAttempts(self.limits.window)
        member = self.store.member_by_email(site_id, email)
        if member is None:
            # An unknown email costs a hash check too, so timing does not tell which emails exist.
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(new_guid())
            self._password_matches_hash(self._dummy_hash, password)
        if member is None or not self._password_matches(member, password):
            for key in keys:
                self.store.record_failure(key, now, self.limits.window)
            raise LoginFailed("wrong email or password")
        self.store.clear_failures(keys[0])
        return member

    def _password_matches_hash(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def _password_matches(self, member: MemberRow, password: str) -> bool:
        if not self._password_matches_hash(member.password_hash, password):
            return False
        if self.hasher.check_needs_rehash(member.password_hash):
            self.store.update_password_hash(member.id, self.hasher.hash(password))
        return True
