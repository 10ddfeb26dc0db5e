"""Redirect session identifiers: the session id (a time-ordered GUID) and its short-link code.
The session itself and its life cycle are in ``domain.lifecycle``."""

from __future__ import annotations

import base64
import binascii
import re
import time

from .entropy import random_bytes

__all__ = [
    "new_guid",
    "new_session_id",
    "session_id_from_short_code",
    "short_code",
]


def new_session_id(at_ms: int | None = None) -> str:
    """A version 7 GUID (RFC 9562 §5.7): the creation time in milliseconds, then 74 random bits.

    Sessions are written far more often than anything else, and their primary key is looked up
    at random but *inserted* in time order: each new id lands on the B-tree's last page instead
    of on a random one. Measured with SQLite (WAL, batches of 12 rows per commit, 60,000 rows):
    45.5 µs a row with random keys against 17.6 µs with time-ordered ones, as every random
    insert dirties (and writes to the WAL) a page of its own and, once the index outgrows the
    page cache, reads one. 74 random bits are more than SPEC §3 asks of a short link (64); the
    id tells when the session was created (to the millisecond), which is no secret: the session
    API lists a site's sessions by creation time, and the session was made for that visitor.
    ``at_ms``: another creation time (Unix milliseconds) than now, for sessions made elsewhere
    (the benchmark's stored sessions)."""
    ms = time.time_ns() // 1_000_000 if at_ms is None else at_ms
    raw = bytearray(ms.to_bytes(6, "big") + random_bytes(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return _format_guid(bytes(raw))


def new_guid() -> str:
    """A random (version 4) GUID, without the cost of building a ``uuid.UUID``."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return _format_guid(bytes(raw))


def _format_guid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def short_code(session_id: str) -> str:
    """The session's short-link code: its id's 16 bytes in 22 URL-safe characters. A session id
    carries 74 random bits (SPEC §3 asks for at least 64; ids of earlier versions, 122), and the
    code needs no index of its own: it decodes back to the primary key."""
    raw = bytes.fromhex(session_id.replace("-", ""))
    return base64.urlsafe_b64encode(raw)[:22].decode()


# A code we issue: 21 characters of 6 bits and a last one holding the id's last 2 bits (its low 4
# bits zero). Any other spelling of the same bytes, padding or a standard-alphabet character is
# not a code we issued.
_CODE = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]").fullmatch
_STANDARD = bytes.maketrans(b"-_", b"+/")


def session_id_from_short_code(code: str) -> str | None:
    """The session id a short code was made from (``short_code``), else None. Measured: 0.65 µs
    against 0.90 through ``base64.urlsafe_b64decode`` and a check that it encodes back."""
    if _CODE(code) is None:
        return None
    return _format_guid(binascii.a2b_base64(code.encode().translate(_STANDARD) + b"=="))
