"""The common shapes of a Create Redirect Session body, decoded and checked straight from its bytes.

:func:`parse_request` reads any body a client may send (snake_case, unknown fields, every
wrong type) and lists every violation; that generality costs several times the decoding. Nearly
every request is one of a few shapes, in lowerCamelCase, with known fields only: typed msgspec
structures decode those in one pass, and :func:`fast_request` checks them with the same rules.

It only ever accepts: whatever it is not sure of (an unknown or snake_case field, a wrong type, a
``bookingsCheckout``, any rule broken) makes it answer ``None``, and the caller runs the full
validator, which gives the answer (and every violation) the service always gave. A test holds the
two to the same result on every case of the rule table.

The shapes and their rules come from the intent catalogue: an intent's object is decoded as a map
of strings (its declared keys only) and read by the same declarations the full validator reads,
with a reader that gives up at the first violation. Intents with other kinds of fields (numbers,
flags, nested groups beyond one level: ``bookingsCheckout``) are left to the full validator.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .catalogue import CALLBACK_FIELDS, CATALOGUE, Catalogue, Field, Intent
from .catalogue.reading import IntentReader, split
from .fields import Reader
from .intents import MAX_QUERY_PARAMETERS, Preferences, SessionRequest, reserved_parameters

__all__ = ["fast_request"]

# Kinds the fast path reads from a map of strings.
_STRING_KINDS = frozenset({"guid", "text", "choice"})


class _Shape(msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True):
    pass


class _Preferences(_Shape):
    use_generic_wix_pages: bool | None = None
    maintain_identity: bool | None = None
    additional_query_parameters: dict[str, str] | None = None
    check_if_publish: bool | None = None


# Attributes named by the wire names themselves: nothing to rename.
_Callbacks: Any = msgspec.defstruct("_Callbacks", [(name, str | None, None) for name in CALLBACK_FIELDS],
                                    forbid_unknown_fields=True, omit_defaults=True)


class _Declined(Exception):
    """Not a shape this module is sure of: the full validator decides."""


class _Refuse(Reader):
    """A reader that gives up at the first violation instead of listing it."""

    def fail(self, path: str, rule: str, description: str, **data: Any) -> None:
        raise _Declined


def _flat(fields: tuple[Field, ...]) -> bool:
    return all(f.kind in _STRING_KINDS for f in fields)


def _shape_of(entry: Intent) -> tuple[Any, frozenset[str], dict[str, frozenset[str]]] | None:
    """The msgspec type of ``entry``'s object, its keys and the keys of each group; ``None``
    when it has fields the fast path does not read."""
    groups = {f.name: frozenset(m.name for m in f.fields) for f in entry.fields if f.kind == "group"}
    if not all(f.kind in _STRING_KINDS or (f.kind == "group" and _flat(f.fields)) for f in entry.fields):
        return None
    value: Any = dict[str, str | dict[str, str]] if groups else dict[str, str]
    return value, frozenset(f.name for f in entry.fields), groups


class _Shapes:
    """The fast path's view of a catalogue: the body type and, per intent, what to check."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.intents: dict[str, tuple[Intent, IntentReader, frozenset[str], dict[str, frozenset[str]]]] = {}
        body: list[tuple[str, Any, Any]] = []
        for entry in catalogue:
            shape = _shape_of(entry)
            if shape is None:
                continue
            value, keys, groups = shape
            self.intents[entry.name] = (entry, catalogue.readers[entry.name], keys, groups)
            body.append((entry.name, value | None, None))
        body += [("callbacks", _Callbacks | None, None), ("preferences", _Preferences | None, None),
                 ("origin", str | None, None)]
        # Intent names are the wire names already (no renaming), the common fields are camelCase.
        self.body = msgspec.defstruct("_Body", body, forbid_unknown_fields=True, omit_defaults=True)
        self.decode = msgspec.json.Decoder(self.body).decode
        self.names = tuple(self.intents)
        self.reserved = {name: reserved_parameters(name, catalogue) for name in self.intents}


_SHAPES = _Shapes(CATALOGUE)
_decode = _SHAPES.decode
_NAMES, _INTENTS = _SHAPES.names, _SHAPES.intents
_REFUSE = _Refuse([])
_DEFAULT_PREFERENCES = Preferences()


def fast_request(raw: bytes) -> SessionRequest | None:
    """The request, when ``raw`` is a common shape that breaks no rule the body alone can
    tell; ``None`` otherwise (then :func:`parse_request` gives the answer)."""
    try:
        body = _decode(raw)
        return _request(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, _Declined):
        return None


def _request(body: Any) -> SessionRequest:
    found = None
    for name in _NAMES:
        given = getattr(body, name)
        if given is not None:
            if found is not None:
                raise _Declined
            found, value = name, given
    if found is None:
        raise _Declined
    entry, read, keys, groups = _INTENTS[found]
    # Only declared keys (a snake_case or unknown one is the full validator's to read).
    if not keys.issuperset(value):
        raise _Declined
    if groups:  # the checks below cost a request nothing when an intent has no groups
        for name, members in groups.items():
            inner = value.get(name)
            if inner is not None and (not isinstance(inner, dict) or not members.issuperset(inner)):
                raise _Declined
    callbacks = _callbacks(body.callbacks)
    if entry.refused_callbacks and any(refused in callbacks for refused, _ in entry.refused_callbacks):
        raise _Declined
    preferences = _preferences(body.preferences, entry.name)
    origin = body.origin
    if origin is not None and len(origin) > 2048:
        raise _Declined
    values = read(_REFUSE, value)
    # Most intents keep their values as the parameters: no call to split() for them.
    params, prompt = split(entry, values) if entry.params_from or entry.prompt_from else (values, None)
    return SessionRequest(entry.name, params, callbacks, preferences, origin, prompt)


def _callbacks(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if raw is None:
        return out
    for name in CALLBACK_FIELDS:
        value = getattr(raw, name)
        if value is not None:
            if len(value) > 2048:
                raise _Declined
            if value:
                out[name] = value
    return out


def _preferences(raw: _Preferences | None, intent: str) -> Preferences:
    if raw is None:
        return _DEFAULT_PREFERENCES
    extra = raw.additional_query_parameters
    if extra is None:
        extra = {}
    else:
        if len(extra) > MAX_QUERY_PARAMETERS:
            raise _Declined
        reserved = _SHAPES.reserved[intent]
        for key in extra:
            if not key or len(key) > 256 or not key.isprintable() or key in reserved:
                raise _Declined
    return Preferences(
        use_generic_wix_pages=True if raw.use_generic_wix_pages is None else raw.use_generic_wix_pages,
        maintain_identity=True if raw.maintain_identity is None else raw.maintain_identity,
        additional_query_parameters=extra,
        check_if_publish=False if raw.check_if_publish is None else raw.check_if_publish,
    )
