"""Redirect session identifiers: the session id (a random GUID) and its short-link code. The
session itself and its life cycle are in ``domain.lifecycle``."""

from __future__ import annotations

import base64
import binascii
import os

__all__ = [
    "new_guid",
    "new_session_id",
    "session_id_from_short_code",
    "short_code",
]


def new_session_id() -> str:
    return new_guid()


def new_guid() -> str:
    """A random (version 4) GUID, without the cost of building a ``uuid.UUID``."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return _format_guid(bytes(raw))


def _format_guid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def short_code(session_id: str) -> str:
    """The session's short-link code: its id's 16 bytes in 22 URL-safe characters. A v4 GUID
    carries 122 random bits (SPEC §3 asks for at least 64), and the code needs no index of its
    own: it decodes back to the primary key."""
    raw = bytes.fromhex(session_id.replace("-", ""))
    return base64.urlsafe_b64encode(raw)[:22].decode()


def session_id_from_short_code(code: str) -> str | None:
    if len(code) != 22:
        return None
    try:
        raw = base64.urlsafe_b64decode(code + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 or base64.urlsafe_b64encode(raw)[:22].decode() != code:
        return None  # non-canonical spellings of the same bytes are not links we issued
    return _format_guid(raw)
