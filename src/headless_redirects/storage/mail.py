"""The mail outbox: every message the service sends, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database
from .tables import mail_outbox

__all__ = ["MailRow", "MailStore"]


@dataclass(frozen=True, slots=True)
class MailRow:
    id: str
    site_id: str | None
    recipient: str
    subject: str
    body: str
    created_at: int
    status: str
    sent_at: int | None = None
    error: str | None = None


class MailStore:
    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def insert(self, row: MailRow) -> None:
        with self.engine.begin() as c:
            c.execute(mail_outbox.insert().values(**{name: getattr(row, name) for name in row.__slots__}))

    def mark(self, mail_id: str, status: str, *, sent_at: int | None = None, error: str | None = None) -> None:
        with self.engine.begin() as c:
            c.execute(mail_outbox.update().where(mail_outbox.c.id == mail_id)
                      .values(status=status, sent_at=sent_at, error=error))

    def get(self, mail_id: str) -> MailRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(mail_outbox).where(mail_outbox.c.id == mail_id)).first()
            return None if row is None else MailRow(**row._mapping)

    def recent(self, limit: int, recipient: str | None = None) -> list[MailRow]:
        """Newest first."""
        with self.engine.connect() as c:
            query: Any = sa.select(mail_outbox).order_by(mail_outbox.c.created_at.desc(), mail_outbox.c.id).limit(limit)
            if recipient is not None:
                query = query.where(mail_outbox.c.recipient == recipient)
            return [MailRow(**r._mapping) for r in c.execute(query)]
