"""Domain errors. Only the web layer knows which HTTP status and body each becomes.

    DomainError
     ├── ValidationFailed        400, validationError with every field violation
     ├── Unauthenticated         401, applicationError UNAUTHENTICATED
     ├── PermissionDenied        403, applicationError PERMISSION_DENIED
     ├── NotFound                404, applicationError NOT_FOUND
     ├── PayloadTooLarge         413, applicationError PAYLOAD_TOO_LARGE
     ├── ApplicationError        its own status and string code (the identity API's "-19995"...)
     └── OAuthError              RFC 6749 §5.2 bodies (see ``domain.oauth_errors``)
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

__all__ = [
    "ApplicationError",
    "DomainError",
    "FieldViolation",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "Rule",
    "Unauthenticated",
    "ValidationFailed",
]


class Rule:
    """The ``violatedRule`` values of the Wix validation error body that we use."""

    REQUIRED_FIELD = "REQUIRED_FIELD"
    REQUIRED_ONE_OF_FIELD = "REQUIRED_ONE_OF_FIELD"
    ONE_OF_ALIGNMENT = "ONE_OF_ALIGNMENT"
    FORMAT = "FORMAT"
    MAX_LENGTH = "MAX_LENGTH"
    MAX_SIZE = "MAX_SIZE"
    INVALID_ENUM_VALUE = "INVALID_ENUM_VALUE"
    FIELD_NOT_ALLOWED = "FIELD_NOT_ALLOWED"
    VALIDATION = "VALIDATION"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str
    violated_rule: str
    data: dict[str, Any] = dataclass_field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "description": self.description,
            "violatedRule": self.violated_rule,
            "data": self.data,
        }


class DomainError(Exception):
    """Base of every error the service raises on purpose."""

    code = "INTERNAL"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class ValidationFailed(DomainError):
    code = "INVALID_ARGUMENT"

    def __init__(self, violations: list[FieldViolation]) -> None:
        summary = "; ".join(
            f"{v.field}: {v.description}" if v.field else v.description for v in violations[:5]
        )
        super().__init__(summary or "invalid request")
        self.violations = violations


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"


class NotFound(DomainError):
    code = "NOT_FOUND"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class ApplicationError(DomainError):
    """An applicationError with a code of its own: the official SDK compares the identity API's
    codes as strings (``"-19995"`` email exists, ``"-19976"`` wrong password...)."""

    def __init__(self, code: str, description: str, status: int = 400, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.status = status
        self.retry_after = retry_after
