"""Reading an intent's object by its declaration: every :class:`~.entry.Field` rule, in one place.

The full validator reads with a :class:`~..fields.Reader` that records every violation; the fast
path reads the same way with a reader that gives up at the first one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import Rule
from ..fields import Reader, is_guid
from .entry import Field, Intent

__all__ = ["IntentReader", "intent_reader", "split"]

# (reader, the value as given, None when absent) -> the clean value, None when absent or refused.
_Read = Callable[[Reader, Any], Any]
# (reader, the intent's camelCase object) -> its values (see split()).
IntentReader = Callable[[Reader, dict[str, Any]], dict[str, Any]]


def intent_reader(entry: Intent) -> IntentReader:
    """The reader of ``entry``'s object. Built once per intent: each field's rules and path are
    bound in advance, so a request pays only for the checks themselves (the fast path is hot).
    It returns the intent's values; :func:`split` makes them the session's parameters and prompt."""
    read_values = _group_reader(entry.fields, entry.name)
    checks, name = entry.checks, entry.name
    if not checks:
        return read_values

    def read(r: Reader, raw: dict[str, Any]) -> dict[str, Any]:
        values = read_values(r, raw)
        for check in checks:
            check(r, values, name)
        return values

    return read


def split(entry: Intent, values: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The session parameters and prompt among an intent's read ``values``."""
    prompt = values.pop(entry.prompt_from, None) if entry.prompt_from is not None else None
    if entry.params_from is not None:
        return values.get(entry.params_from, {}), prompt
    return values, prompt


def _group_reader(fields: tuple[Field, ...], path: str) -> Callable[[Reader, dict[str, Any]], dict[str, Any]]:
    # One loop does what every field shares (absent, blank, required); ``given`` the rest.
    readers = tuple((f.name, f"{path}.{f.name}", f.required, f.blank_is_absent, f.default, f.required_message,
                     _given_reader(f, f"{path}.{f.name}")) for f in fields)

    def read(r: Reader, raw: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field_path, required, blank_is_absent, default, message, given in readers:
            value = raw.get(name)
            if value is None or (value == "" and blank_is_absent):
                if required:
                    r.fail(field_path, Rule.REQUIRED_FIELD, message)
                value = default
            else:
                value = given(r, value)
            if value is not None:
                out[name] = value
        return out

    return read


def _given_reader(f: Field, path: str) -> _Read:
    """The reader of a field's value once it is known to be given."""
    if f.kind == "group":
        members = _group_reader(f.fields, path)
        return lambda r, value: None if (raw := r.obj(value, path)) is None else members(r, raw)
    if f.kind == "flag":
        default = f.default
        return lambda r, value: r.boolean(value, path, default)
    if f.kind == "count":
        return lambda r, value: r.integer(value, path)
    if f.kind == "zone":
        return lambda r, value: r.timezone(value, path)
    if f.kind == "guid":
        def guid(r: Reader, value: Any) -> str | None:
            # The common case skips a call: a string of GUID length needs no string check.
            checked = value if type(value) is str and len(value) <= 36 else r.string(value, path, max_length=36)
            if checked is None:
                return None
            if not is_guid(checked):
                r.fail(path, Rule.FORMAT, "must be a GUID", format="GUID")
                return None
            return checked.lower()

        return guid
    if f.kind == "choice":
        choices, default = f.choices, f.default
        return lambda r, value: default if (chosen := r.enum(value, path, choices)) is None else chosen
    if f.kind == "instant":
        return lambda r, value: _instant(r, f, value, path)
    max_length, pattern, hint = f.max_length, f.pattern, f.pattern_hint

    def text(r: Reader, value: Any) -> str | None:
        checked = r.string(value, path, max_length=max_length)
        if checked is not None and pattern is not None and not pattern.match(checked):
            r.fail(path, Rule.FORMAT, hint)
            return None
        return checked

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
