"""Small builders of OpenAPI schema pieces, shared by the parts of the document."""

from __future__ import annotations

from typing import Any

__all__ = ["json_content", "obj", "ref"]


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response (or body) of JSON described by ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}
