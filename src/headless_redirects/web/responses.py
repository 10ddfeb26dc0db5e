"""Reading request bodies within limits, and writing JSON and HTML responses."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

from ..domain.errors import FieldViolation, PayloadTooLarge, Rule, ValidationFailed

__all__ = ["HTML_SECURITY_HEADERS", "decode_json", "json_response", "read_body", "read_limited"]

_encoder = msgspec.json.Encoder()

# Every hosted page: no referrer leaks the session URL, and nobody may frame it.
HTML_SECURITY_HEADERS = {
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self' https: http://localhost:* http://127.0.0.1:*",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_encoder.encode(content), status_code, headers, media_type="application/json")


async def read_limited(receive: Receive, declared: str | bytes | None, limit: int) -> bytes:
    """The whole body from an ASGI ``receive``, or :class:`PayloadTooLarge` as soon as it (or its
    declared ``content-length``) passes ``limit`` bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def read_body(request: Request, limit: int) -> bytes:
    return await read_limited(request.receive, request.headers.get("content-length"), limit)


def decode_json(body: bytes) -> Any:
    """Decode a JSON body; malformed JSON, invalid UTF-8 or absurd nesting is a 400."""
    if not body.strip():
        raise ValidationFailed([FieldViolation("", "the request body is empty; send a JSON object", Rule.FORMAT)])
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationFailed(
            [FieldViolation("", f"the request body is not valid JSON: {exc}", Rule.FORMAT)]
        ) from None
