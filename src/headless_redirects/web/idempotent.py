"""Create session under an ``Idempotency-Key`` (SPEC §12; ``service.idempotency``)."""

from __future__ import annotations

import msgspec

from ..domain.intents import INTENTS
from ..service import counters
from ..service.create_session import Caller
from .errors import api_error
from .responses import decode_json
from .services import Services

__all__ = ["idempotent_create"]

_encode = msgspec.json.Encoder().encode
_JSON = (b"content-type", b"application/json")


async def idempotent_create(services: Services, caller: Caller, key: str, raw: bytes,
                            linguist: str | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer (status, headers, body) of a create under ``key``: a replay of the first
    answer to the same request, or a refusal (409, 422), or the first answer, stored."""
    idempotency = services.idempotency
    key_hash = idempotency.key_hash(caller, key)
    taken = await services.db.run(idempotency.take, key_hash, idempotency.request_hash(raw, linguist))
    if taken.outcome == "replay":
        assert taken.status_code is not None and taken.response is not None
        return taken.status_code, [_JSON, (b"idempotent-replayed", b"true")], taken.response.encode()
    try:
        body = decode_json(raw)
        result = await services.db.run(services.sessions.create, caller, body, linguist, key_hash)
    except Exception as exc:
        status, body, _headers = api_error(exc)
        if status < 500:  # a refused request is an answer too: the same request is refused again
            await services.db.run(idempotency.store.complete, key_hash, status, _encode(body).decode())
        else:  # our failure: forget the key so that a retry runs
            await services.db.run(idempotency.store.release, key_hash)
        raise
    intent = next((k for k in body if k in INTENTS), "other")  # a created session's body names its intent
    counters.sessions_created.labels(intent).inc()
    return 200, [_JSON], _encode(result)
