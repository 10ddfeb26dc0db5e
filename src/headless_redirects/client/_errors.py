"""Errors of the client SDK.

    HeadlessRedirectsError          every error the SDK raises; carries status, message, request id
     ├── ConnectionFailed           no HTTP response at all (after bounded retries)
     ├── APIError                   a non-2xx answer of the API (documented error body)
     │    ├── ValidationError       400: ``field_violations``
     │    ├── AuthenticationError   401
     │    ├── PermissionDenied      403
     │    ├── NotFound              404
     │    ├── Conflict              409
     │    │    ├── SessionAlreadyFinished   ``SESSION_ALREADY_FINISHED``: expiring a completed or abandoned session
     │    │    └── IdempotencyKeyInUse      ``IDEMPOTENCY_KEY_IN_USE``: the first request with the key is running
     │    ├── IdempotencyKeyReused  422 ``IDEMPOTENCY_KEY_REUSED``: the key was used with another body
     │    └── RateLimited           429
     ├── OAuthError                 the token service's RFC 6749 error (``error``, ``error_description``)
     └── WebhookVerificationError   ``verify_webhook``: a delivery that is not signed with the secret
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "Conflict",
    "ConnectionFailed",
    "FieldViolation",
    "HeadlessRedirectsError",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "NotFound",
    "OAuthError",
    "PermissionDenied",
    "RateLimited",
    "SessionAlreadyFinished",
    "ValidationError",
    "WebhookVerificationError",
]


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str
    violated_rule: str
    data: dict[str, Any] = dataclass_field(default_factory=dict)


class HeadlessRedirectsError(Exception):
    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None,
                 body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(status {self.status}")
            parts[-1] += f", request id {self.request_id})" if self.request_id else ")"
        return " ".join(parts)


class ConnectionFailed(HeadlessRedirectsError):
    pass


class APIError(HeadlessRedirectsError):
    """A documented API error body: ``code`` for application errors, ``field_violations`` for 400s."""

    def __init__(self, message: str, *, code: str | None = None,
                 field_violations: list[FieldViolation] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code
        self.field_violations = field_violations or []


class ValidationError(APIError):
    pass


class AuthenticationError(APIError):
    pass


class PermissionDenied(APIError):
    pass


class NotFound(APIError):
    pass


class Conflict(APIError):
    """409: the request conflicts with the current state of what it acts on."""


class SessionAlreadyFinished(Conflict):
    """``SESSION_ALREADY_FINISHED``: only a CREATED or OPENED session can be expired."""


class IdempotencyKeyInUse(Conflict):
    """``IDEMPOTENCY_KEY_IN_USE``: a request with this key is still being processed. The SDK
    retries it (bounded) when it sent the key itself; the answer is then the first request's."""


class IdempotencyKeyReused(APIError):
    """422 ``IDEMPOTENCY_KEY_REUSED``: the key was already used with another request body. A new
    request needs a new key."""


class RateLimited(APIError):
    pass


class OAuthError(HeadlessRedirectsError):
    def __init__(self, error: str, description: str | None = None, **kwargs: Any) -> None:
        super().__init__(f"{error}: {description}" if description else error, **kwargs)
        self.error = error
        self.error_description = description


class WebhookVerificationError(HeadlessRedirectsError):
    """A webhook delivery whose signature, timestamp or body does not verify: answer it with 400
    and trust nothing in it."""
