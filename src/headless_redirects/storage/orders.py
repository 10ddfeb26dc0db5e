"""Orders placed by the demo flow provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database
from .tables import orders

__all__ = ["OrderRow", "OrderStore"]


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: str
    site_id: str
    session_id: str
    intent: str
    number: str
    event_id: str | None
    visitor_id: str | None
    member_id: str | None
    currency: str
    total: str
    items: list[dict[str, Any]]
    created_at: int


class OrderStore:
    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def insert(self, order: OrderRow) -> None:
        """One order per session: a second insert for the same session raises IntegrityError."""
        with self.engine.begin() as c:
            c.execute(orders.insert().values(**{name: getattr(order, name) for name in order.__slots__}))

    def get(self, order_id: str) -> OrderRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(orders).where(orders.c.id == order_id)).first()
            return None if row is None else OrderRow(**row._mapping)

    def for_session(self, session_id: str) -> OrderRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(orders).where(orders.c.session_id == session_id)).first()
            return None if row is None else OrderRow(**row._mapping)
