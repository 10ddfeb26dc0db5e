"""The request schema of each intent, generated from the intent catalogue's field declarations:
the document states each rule the validator enforces because both read the same declaration."""

from __future__ import annotations

from typing import Any

from ..domain.catalogue import CATALOGUE, Catalogue, Field, Intent
from .openapi_parts import obj

__all__ = ["field_schema", "intent_schema", "intent_schemas"]


def field_schema(f: Field) -> dict[str, Any]:
    """The JSON Schema of one declared field."""
    if f.kind == "group":
        return obj({m.name: field_schema(m) for m in f.fields}, [m.name for m in f.fields if m.required])
    if f.kind == "guid":
        return {"type": "string", "format": "uuid"}
    if f.kind == "choice":
        return {"enum": list(f.choices)}
    if f.kind == "flag":
        return {"type": "boolean"}
    if f.kind == "count":
        return {"type": "integer", "minimum": 0}
    if f.kind == "instant":
        return {"type": "string", "format": "date-time"}
    schema: dict[str, Any] = {"type": "string"}
    if f.required and f.pattern is None:  # a pattern already refuses the empty string
        schema["minLength"] = 1
    if f.max_length is not None:
        schema["maxLength"] = f.max_length
    if f.pattern is not None:
        schema["pattern"] = f.pattern.pattern
    return schema


def intent_schema(entry: Intent) -> dict[str, Any]:
    return obj({f.name: field_schema(f) for f in entry.fields}, [f.name for f in entry.fields if f.required])


def intent_schemas(catalogue: Catalogue = CATALOGUE) -> dict[str, dict[str, Any]]:
    """``Intent_<name>`` component schemas, one per intent of ``catalogue``."""
    return {f"Intent_{entry.name}": intent_schema(entry) for entry in catalogue}
