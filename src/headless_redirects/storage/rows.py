"""Reading rows by name on the DBAPI connection (``statements``) and writing them from the row
classes: shared by the repositories."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

__all__ = ["json_column", "named_columns", "row_of", "values_of"]

T = TypeVar("T")


def named_columns(table: sa.Table, cls: type) -> list[sa.ColumnElement[Any]]:
    """``table``'s columns named like ``cls``'s fields (a dataclass's or a ``msgspec.Struct``'s),
    in the fields' order: a SELECT of these builds the row positionally at no cost, and a
    migration that adds a column changes nothing read through it."""
    names = getattr(cls, "__struct_fields__", None) or [f.name for f in fields(cls)]
    return [table.c[name] for name in names]


def row_of(cls: type[T], row: Any) -> T | None:
    """A SQLAlchemy result row as ``cls`` (by column name), or ``None``."""
    return None if row is None else cls(**row._mapping)


def json_column(value: Any) -> Any:
    """A JSON column read on the DBAPI connection: text on SQLite and asyncpg, parsed by psycopg."""
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value


def values_of(obj: Any) -> dict[str, Any]:
    """A row object's fields (a slotted dataclass's or a ``msgspec.Struct``'s), as the values of
    an insert."""
    names = getattr(obj, "__struct_fields__", None)
    if names is not None:
        return dict(zip(names, msgspec.structs.astuple(obj), strict=True))
    return {name: getattr(obj, name) for name in obj.__slots__}
