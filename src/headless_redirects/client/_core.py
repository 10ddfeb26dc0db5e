"""The request-building core shared by the sync and async clients.

Every SDK call is an *operation*: a generator that yields ``httpx.Request`` objects and receives
the ``httpx.Response`` to each (the shape of httpx's auth flows). The protocol logic is written
once; :func:`run_sync` and :func:`run_async` only differ in how they send.

Sending retries, with jitter and a bound, only where that is safe:
- the connection could not be made (nothing reached the server);
- the server answered 429/503 with ``Retry-After``;
- the request is *retry-safe* (a GET, a request carrying an ``Idempotency-Key``, or one marked
  with :data:`RETRY_SAFE`) and the connection failed after it was sent (the server may have
  handled it: repeating it changes nothing), or the server answered 409
  ``IDEMPOTENCY_KEY_IN_USE`` (the first attempt is still running; its answer comes next).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Generator
from typing import Any, TypeVar

import httpx

from ._errors import (
    APIError,
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    FieldViolation,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotFound,
    OAuthError,
    PermissionDenied,
    RateLimited,
    SessionAlreadyFinished,
    ValidationError,
)

__all__ = ["DEFAULT_BASE_URL", "RETRY_SAFE", "Operation", "RetryPolicy", "camelize", "raise_for_status", "retry_safe",
           "run_async", "run_sync"]

T = TypeVar("T")
Operation = Generator[httpx.Request, httpx.Response, T]
DEFAULT_BASE_URL = "http://127.0.0.1:8080"
# A request extension marking a request that may be sent twice with the effect of once.
RETRY_SAFE = "headless_redirects.retry_safe"
_STATUS_ERRORS: dict[int, type[APIError]] = {400: ValidationError, 401: AuthenticationError, 403: PermissionDenied,
                                             404: NotFound, 409: Conflict, 429: RateLimited}
_CODE_ERRORS: dict[str, type[APIError]] = {"SESSION_ALREADY_FINISHED": SessionAlreadyFinished,
                                           "IDEMPOTENCY_KEY_IN_USE": IdempotencyKeyInUse,
                                           "IDEMPOTENCY_KEY_REUSED": IdempotencyKeyReused}
# Failures where nothing was sent: retrying is safe for any request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
# Failures that may have happened after the server got the request (reset, timeout, cut answer).
_MAYBE_SENT = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)


class RetryPolicy:
    def __init__(self, max_retries: int = 2, base_delay: float = 0.2, max_delay: float = 5.0) -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay

    def delay(self, attempt: int, response: httpx.Response | None, *, safe: bool = False) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1-based), or ``None``: do not retry.

        ``response`` is ``None`` when the connection failed before any answer; ``safe`` says the
        request may be repeated (see the module docstring)."""
        if attempt > self.max_retries:
            return None
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if response.status_code in (429, 503) and retry_after is not None:
                try:
                    return float(min(float(retry_after), self.max_delay))
                except ValueError:
                    return None
            if not (safe and response.status_code == 409 and _code(response) == "IDEMPOTENCY_KEY_IN_USE"):
                return None
        backoff = self.base_delay * 2 ** (attempt - 1)
        return float(min(backoff * (0.5 + random.random()), self.max_delay))  # jitter, not security


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    details = body.get("details") if isinstance(body, dict) else None
    error = details.get("applicationError") if isinstance(details, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def retry_safe(request: httpx.Request) -> bool:
    """Whether sending ``request`` twice has the effect of sending it once."""
    return (request.method in ("GET", "HEAD") or "idempotency-key" in request.headers
            or bool(request.extensions.get(RETRY_SAFE)))


def _transport_delay(retry: RetryPolicy, attempt: int, request: httpx.Request, exc: httpx.TransportError) -> float:
    """The wait before retrying after ``exc``, or raise :class:`ConnectionFailed`."""
    delay = None
    if isinstance(exc, _NOT_SENT) or (isinstance(exc, _MAYBE_SENT) and retry_safe(request)):
        delay = retry.delay(attempt, None)
    if delay is None:
        what = "could not connect to" if isinstance(exc, _NOT_SENT) else "no answer from"
        raise ConnectionFailed(f"{what} {request.url.host}: {type(exc).__name__}: {exc}") from exc
    return delay


def run_sync(client: httpx.Client, operation: Operation[T], retry: RetryPolicy) -> T:
    try:
        request = next(operation)
        while True:
            request = operation.send(_send_sync(client, request, retry))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(client: httpx.AsyncClient, operation: Operation[T], retry: RetryPolicy) -> T:
    try:
        request = next(operation)
        while True:
            request = operation.send(await _send_async(client, request, retry))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _send_sync(client: httpx.Client, request: httpx.Request, retry: RetryPolicy) -> httpx.Response:
    # The same Request (same body, same Idempotency-Key) is sent on every attempt.
    attempt = 0
    while True:
        attempt += 1
        delay: float | None
        try:
            response = client.send(request)
        except httpx.TransportError as exc:
            delay = _transport_delay(retry, attempt, request, exc)
        else:
            delay = retry.delay(attempt, response, safe=retry_safe(request))
            if delay is None:
                return response
            response.close()
        time.sleep(delay)


async def _send_async(client: httpx.AsyncClient, request: httpx.Request, retry: RetryPolicy) -> httpx.Response:
    attempt = 0
    while True:
        attempt += 1
        delay: float | None
        try:
            response = await client.send(request)
        except httpx.TransportError as exc:
            delay = _transport_delay(retry, attempt, request, exc)
        else:
            delay = retry.delay(attempt, response, safe=retry_safe(request))
            if delay is None:
                return response
            await response.aclose()
        await asyncio.sleep(delay)


def raise_for_status(response: httpx.Response) -> Any:
    """The JSON body of a 2xx response, else the matching SDK error."""
    request_id = response.headers.get("x-wix-request-id")
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        return body
    common = {"status": response.status_code, "request_id": request_id, "body": body}
    if isinstance(body, dict) and "error" in body and "details" not in body:
        raise OAuthError(str(body["error"]), body.get("error_description"), **common)
    message = body.get("message", response.reason_phrase) if isinstance(body, dict) else response.reason_phrase
    details = body.get("details", {}) if isinstance(body, dict) else {}
    violations = [
        FieldViolation(v.get("field", ""), v.get("description", ""), v.get("violatedRule", ""), v.get("data") or {})
        for v in (details.get("validationError") or {}).get("fieldViolations", [])
    ]
    code = (details.get("applicationError") or {}).get("code")
    cls = _CODE_ERRORS.get(code or "") or _STATUS_ERRORS.get(response.status_code, APIError)
    raise cls(str(message), code=code, field_violations=violations, **common)


def camelize(value: Any, keep: frozenset[str] = frozenset({"additionalQueryParameters"})) -> Any:
    """Python snake_case parameters to the API's lowerCamelCase, except inside data maps."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            head, *rest = str(key).split("_")
            name = head + "".join(part[:1].upper() + part[1:] for part in rest)
            out[name] = item if name in keep else camelize(item, keep)
        return out
    if isinstance(value, (list, tuple)):
        return [camelize(item, keep) for item in value]
    return value
