"""Random secrets and how they are stored: only a SHA-256 digest ever reaches the database."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["digest", "new_secret"]


def new_secret(prefix: str = "") -> str:
    """256 bits of randomness, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
