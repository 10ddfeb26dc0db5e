"""Password hashing with argon2id, off the event loop (an argon2 check takes ~100 ms of CPU)."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["MIN_PASSWORD", "Passwords"]

MIN_PASSWORD = 8


class Passwords:
    def __init__(self) -> None:
        self.hasher = PasswordHasher()  # argon2id at the library's defaults
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def matches(self, password_hash: str | None, password: str) -> bool:
        """Checks a dummy hash when there is none, so timing tells nothing about accounts."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash("no account has this password")
            password_hash = self._dummy
            try:
                self.hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                pass
            return False
        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return bool(self.hasher.check_needs_rehash(password_hash))

    async def hash_async(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.hash, password)

    async def matches_async(self, password_hash: str | None, password: str) -> bool:
        return await anyio.to_thread.run_sync(self.matches, password_hash, password)
