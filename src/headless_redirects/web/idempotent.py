"""Create session under an ``Idempotency-Key`` (SPEC §12; ``service.idempotency``)."""

from __future__ import annotations

import msgspec
from starlette.types import Send

from ..domain.intents import INTENTS
from ..service import counters
from ..service.create_session import Caller
from .errors import api_error
from .responses import decode_json
from .services import Services

__all__ = ["idempotent_create"]

_encode = msgspec.json.Encoder().encode
_JSON = (b"content-type", b"application/json")


async def idempotent_create(services: Services, send: Send, caller: Caller, key: str, raw: bytes,
                            linguist: str | None) -> None:
    idempotency = services.idempotency
    key_hash = idempotency.key_hash(caller, key)
    taken = await services.db.run(idempotency.take, key_hash, idempotency.request_hash(raw, linguist))
    if taken.outcome == "replay":
        assert taken.status_code is not None and taken.response is not None
        await _answer(send, taken.status_code, taken.response.encode(), [(b"idempotent-replayed", b"true")])
        return
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
    await _answer(send, 200, _encode(result), [])
    intent = next((k for k in body if k in INTENTS), "other")  # a created session's body names its intent
    counters.sessions_created.labels(intent).inc()


async def _answer(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [_JSON, *extra, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
