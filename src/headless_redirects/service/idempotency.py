"""The IETF ``Idempotency-Key`` header on create session (SPEC §12).

For ``idempotency_ttl`` (24 h), the same key from the same caller with the same body gets the
first answer again, byte for byte (and ``idempotent-replayed: true``); another body → 422
``IDEMPOTENCY_KEY_REUSED``; while the first is still running → 409 ``IDEMPOTENCY_KEY_IN_USE``.
A caller is an API key, or the visitor or member behind an access token: two callers never
share keys. Refused requests (4xx) are remembered too; a failure on our side (5xx) is not, so
a retry runs again.
"""

from __future__ import annotations

import hashlib
import re
import time

from ..domain.errors import ApplicationError, FieldViolation, Rule, ValidationFailed
from ..settings import Settings
from ..storage.idempotency import IdempotencyStore, Taken
from .create_session import Caller

__all__ = ["HEADER", "Idempotency"]

HEADER = "idempotency-key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# A first request that has not answered within this long is taken to have died.
STALE_MS = 60_000


class Idempotency:
    def __init__(self, store: IdempotencyStore, settings: Settings) -> None:
        self.store = store
        self.ttl = settings.idempotency_ttl

    @staticmethod
    def key_hash(caller: Caller, key: str) -> str:
        if not _KEY.match(key):
            raise ValidationFailed([FieldViolation("Idempotency-Key", "must be 1 to 255 visible ASCII characters",
                                                   Rule.FORMAT)])
        if caller.identity is not None:
            who = f"{caller.identity.site_id}:{caller.identity.subject_type}:{caller.identity.subject_id}"
        else:
            who = f"{caller.tenant.site.id}:key:{caller.api_key_id}"
        return hashlib.sha256(f"{who}\n{key}".encode()).hexdigest()

    @staticmethod
    def request_hash(body: bytes, linguist: str | None) -> str:
        return hashlib.sha256(body + b"\n" + (linguist or "").encode()).hexdigest()

    def take(self, key_hash: str, request_hash: str) -> Taken:
        now_ms = time.time_ns() // 1_000_000
        taken = self.store.take(key_hash, request_hash, now_ms, now_ms // 1000 + self.ttl, STALE_MS)
        if taken.outcome == "mismatch":
            raise ApplicationError("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with another request "
                                   "body; use a new key for a new request", 422)
        if taken.outcome == "in_flight":
            raise ApplicationError("IDEMPOTENCY_KEY_IN_USE", "a request with this Idempotency-Key is still being "
                                   "processed; retry later", 409)
        return taken
