"""Reading an intent's object by its declaration: every :class:`~.entry.Field` rule, in one place.

The full validator reads with a :class:`~..fields.Reader` that records every violation; the fast
path reads the same way with a reader that gives up at the first one.
"""

from __future__ import annotations

from typing import Any

from ..errors import Rule
from ..fields import Reader
from .entry import Field, Intent

__all__ = ["read_fields", "read_intent"]


def read_intent(r: Reader, entry: Intent, raw: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The session parameters and prompt of ``entry`` from its (camelCase) object ``raw``."""
    values = read_fields(r, entry.fields, raw, entry.name)
    for check in entry.checks:
        check(r, values, entry.name)
    prompt = values.pop(entry.prompt_from, None) if entry.prompt_from is not None else None
    if entry.params_from is not None:
        return values.get(entry.params_from, {}), prompt
    return values, prompt


def read_fields(r: Reader, fields: tuple[Field, ...], raw: dict[str, Any], path: str) -> dict[str, Any]:
    """The clean values of ``fields`` (those given and valid), keyed by field name."""
    out: dict[str, Any] = {}
    for f in fields:
        value = _read(r, f, raw.get(f.name), f"{path}.{f.name}")
        if value is not None:
            out[f.name] = value
    return out


def _read(r: Reader, f: Field, value: Any, path: str) -> Any:
    kind = f.kind
    if kind == "group":
        members = r.obj(value, path, required=f.required)
        return None if members is None else read_fields(r, f.fields, members, path)
    if kind == "flag":
        return r.boolean(value, path, f.default)
    if kind == "count":
        return r.integer(value, path)
    if kind == "zone":
        return r.timezone(value, path)
    if value is None or (value == "" and f.blank_is_absent):
        if f.required:
            r.fail(path, Rule.REQUIRED_FIELD, f.required_message)
        return f.default
    if kind == "guid":
        return r.guid(value, path)
    if kind == "choice":
        chosen = r.enum(value, path, f.choices)
        return f.default if chosen is None else chosen
    if kind == "instant":
        return _instant(r, f, value, path)
    return _text(r, f, value, path)


def _text(r: Reader, f: Field, value: Any, path: str) -> str | None:
    text = r.string(value, path, max_length=f.max_length)
    if text is not None and f.pattern is not None and not f.pattern.match(text):
        r.fail(path, Rule.FORMAT, f.pattern_hint)
        return None
    return text


def _instant(r: Reader, f: Field, value: Any, path: str) -> str | None:
    """The date-time as given (its offset may be ignored later: kept verbatim)."""
    parsed = r.datetime(value, path)
    if parsed is None:
        return None
    if f.years is not None and not f.years[0] <= parsed.year <= f.years[1]:
        low, high = f.years
        r.fail(path, Rule.VALIDATION, f"must be in the years {low} to {high}", min=low, max=high)
        return None
    return str(value)
