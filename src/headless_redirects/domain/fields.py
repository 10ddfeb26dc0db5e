"""Reading a decoded JSON body field by field while collecting every violation.

Requests arrive in lowerCamelCase (the official SDK) or snake_case (hand-written clients);
:func:`camelize` folds the keys of the known objects once, so the rest of the code reads one
spelling. Violations name fields by their lowerCamelCase dotted path.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import FieldViolation, Rule

__all__ = ["MAX_DEPTH", "Reader", "TooDeep", "camelize", "is_guid", "parse_rfc3339"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SNAKE = re.compile(r"_([a-z0-9])")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def _camel(key: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), key) if "_" in key else key


MAX_DEPTH = 32


class TooDeep(ValueError):
    """The JSON nests deeper than any valid request does."""


def camelize(value: Any, maps: frozenset[str], depth: int = 0) -> Any:
    """Rename snake_case keys to lowerCamelCase, recursively, except below a key in ``maps``
    (string-to-string maps whose keys are data, such as ``additionalQueryParameters``).
    When both spellings are present the lowerCamelCase one wins."""
    if depth > MAX_DEPTH:
        raise TooDeep(f"the body nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = _camel(key) if isinstance(key, str) else key
            if name in out and name != key:
                continue
            out[name] = item if name in maps else camelize(item, maps, depth + 1)
        return out
    if isinstance(value, list):
        return [camelize(item, maps, depth + 1) for item in value]
    return value


@lru_cache(maxsize=1024)
def _is_timezone(name: str) -> bool:
    if not name or len(name) > 40 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_rfc3339(value: str) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", value):
        return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None


class Reader:
    """Typed checks of JSON values that record a violation instead of raising. Each takes the
    value as given (``None`` when absent) and the field's dotted path for the violation."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        self.violations = violations

    def fail(self, path: str, rule: str, description: str, **data: Any) -> None:
        self.violations.append(FieldViolation(path, description, rule, dict(data)))

    def obj(self, value: Any, path: str, *, required: bool = False) -> dict[str, Any] | None:
        if value is None:
            if required:
                self.fail(path, Rule.REQUIRED_FIELD, "is required")
            return None
        if not isinstance(value, dict):
            self.fail(path, Rule.FORMAT, "must be an object")
            return None
        return value

    def string(self, value: Any, path: str, *, max_length: int | None = None) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(path, Rule.FORMAT, "must be a string")
            return None
        if max_length is not None and len(value) > max_length:
            self.fail(path, Rule.MAX_LENGTH, f"must be at most {max_length} characters", max=max_length)
            return None
        return value

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, Rule.FORMAT, "must be a boolean")
            return default
        return value

    def integer(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        # proto3 JSON sends 64-bit integers as strings; 32-bit ones as numbers.
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, Rule.FORMAT, "must be an integer")
            return None
        if value < 0:
            self.fail(path, Rule.VALIDATION, "must not be negative")
            return None
        return value

    def enum(self, value: Any, path: str, allowed: tuple[str, ...]) -> str | None:
        text = self.string(value, path)
        if text is None:
            return None
        if text not in allowed:
            # A single allowed value reads as a rule ("must be code"), several as a list.
            what = allowed[0] if len(allowed) == 1 else "one of " + ", ".join(allowed)
            self.fail(path, Rule.INVALID_ENUM_VALUE, f"must be {what}", allowed=list(allowed))
            return None
        return text

    def timezone(self, value: Any, path: str) -> str | None:
        text = self.string(value, path, max_length=40)
        if text is None:
            return None
        if not _is_timezone(text):
            self.fail(path, Rule.FORMAT, "must be an IANA time zone name, such as Europe/Berlin")
            return None
        return text

    def datetime(self, value: Any, path: str) -> datetime | None:
        text = self.string(value, path, max_length=64)
        if text is None:
            return None
        parsed = parse_rfc3339(text)
        if parsed is None:
            self.fail(path, Rule.FORMAT, "must be an RFC 3339 date-time", format="date-time")
        return parsed
