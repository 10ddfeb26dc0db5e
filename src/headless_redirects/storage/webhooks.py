"""Storage of webhook endpoints, the event outbox, deliveries and their attempts (SPEC §12).

Claims are leases taken with a guarded update (``lease_until`` empty or past), so any number of
dispatchers — threads, workers, instances, on SQLite or PostgreSQL — can run together and each
attempt is made by one of them; on PostgreSQL the candidates are read with ``FOR UPDATE SKIP
LOCKED`` so concurrent dispatchers do not even wait for each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database
from .tables import webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events

__all__ = ["AttemptRow", "Claim", "EndpointRow", "EventRow", "WebhookStore"]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: str
    site_id: str
    url: str
    events: list[str]
    secret: str
    created_at: int
    updated_at: int
    disabled_at: int | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    id: str
    site_id: str
    type: str
    session_id: str | None
    body: str
    created_at: int
    fanned_at: int | None = None
    endpoint_id: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: str
    delivery_id: str
    endpoint_id: str
    event_id: str
    attempt: int
    at: int
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this dispatcher holds the lease of, with what it needs to send it."""

    delivery_id: str
    attempts: int
    event_id: str
    body: str
    url: str
    secret: str
    endpoint_id: str


def _from(cls: type[Any], row: Any) -> Any:
    return cls(**{k: row._mapping[k] for k in cls.__slots__})


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine
        self.is_postgres = not db.is_sqlite

    # --- endpoints -------------------------------------------------------------------------

    def add_endpoint(self, row: EndpointRow) -> None:
        with self.engine.begin() as c:
            c.execute(webhook_endpoints.insert().values(**{k: getattr(row, k) for k in row.__slots__}))

    def endpoint(self, endpoint_id: str) -> EndpointRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)).first()
            return None if row is None else _from(EndpointRow, row)

    def endpoints(self, site_id: str | None = None) -> list[EndpointRow]:
        with self.engine.connect() as c:
            query = sa.select(webhook_endpoints).order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
            if site_id is not None:
                query = query.where(webhook_endpoints.c.site_id == site_id)
            return [_from(EndpointRow, r) for r in c.execute(query)]

    def remove_endpoint(self, endpoint_id: str, now_ms: int) -> bool:
        with self.engine.begin() as c:
            c.execute(webhook_deliveries.delete().where(webhook_deliveries.c.endpoint_id == endpoint_id,
                                                        webhook_deliveries.c.status == PENDING))
            return c.execute(webhook_endpoints.delete().where(webhook_endpoints.c.id == endpoint_id)).rowcount == 1

    def fingerprint(self) -> tuple[int, int]:
        """(number of endpoints, latest change): changes whenever one is added, removed or disabled."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(webhook_endpoints.c.updated_at), 0))
                            .select_from(webhook_endpoints)).one()
            return int(row[0]), int(row[1])

    def sites_with_endpoints(self) -> frozenset[str]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(webhook_endpoints.c.site_id).distinct()
                             .where(webhook_endpoints.c.disabled_at.is_(None)))
            return frozenset(r[0] for r in rows)

    # --- events ----------------------------------------------------------------------------

    @staticmethod
    def insert_event(connection: sa.Connection, values: dict[str, Any]) -> None:
        """Write an event inside the caller's transaction (the outbox)."""
        connection.execute(webhook_events.insert().values(**values))

    def add_event(self, values: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            self.insert_event(c, values)

    def event(self, event_id: str) -> EventRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(webhook_events).where(webhook_events.c.id == event_id)).first()
            return None if row is None else _from(EventRow, row)

    def events_of(self, session_id: str) -> list[EventRow]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(webhook_events).where(webhook_events.c.session_id == session_id)
                             .order_by(webhook_events.c.seq))
            return [_from(EventRow, r) for r in rows]

    def fan_out(self, now_ms: int, limit: int = 200) -> int:
        """Turn new events into one delivery per subscribed, enabled endpoint of their site."""
        with self.engine.begin() as c:
            query = (sa.select(webhook_events).where(webhook_events.c.fanned_at.is_(None))
                     .order_by(webhook_events.c.seq).limit(limit))
            if self.is_postgres:
                query = query.with_for_update(skip_locked=True)
            events = [_from(EventRow, r) for r in c.execute(query)]
            if not events:
                return 0
            sites = {e.site_id for e in events}
            endpoints = [_from(EndpointRow, r) for r in c.execute(
                sa.select(webhook_endpoints).where(webhook_endpoints.c.site_id.in_(sites),
                                                   webhook_endpoints.c.disabled_at.is_(None)))]
            rows = []
            for event in events:
                for endpoint in endpoints:
                    if endpoint.site_id != event.site_id:
                        continue
                    if event.endpoint_id is not None and endpoint.id != event.endpoint_id:
                        continue
                    if event.endpoint_id is None and endpoint.events and event.type not in endpoint.events:
                        continue
                    rows.append(_delivery(event, endpoint.id, now_ms))
            if rows:
                c.execute(webhook_deliveries.insert(), rows)
            c.execute(webhook_events.update().where(webhook_events.c.seq.in_([e.seq for e in events]))
                      .values(fanned_at=now_ms))
            return len(events)

    def resend(self, event_id: str, now_ms: int) -> int:
        """New deliveries of a past event to the site's endpoints now subscribed to it."""
        with self.engine.begin() as c:
            row = c.execute(sa.select(webhook_events).where(webhook_events.c.id == event_id)).first()
            if row is None:
                return -1
            event = _from(EventRow, row)
            endpoints = [_from(EndpointRow, r) for r in c.execute(
                sa.select(webhook_endpoints).where(webhook_endpoints.c.site_id == event.site_id,
                                                   webhook_endpoints.c.disabled_at.is_(None)))]
            rows = [_delivery(event, e.id, now_ms) for e in endpoints
                    if (event.endpoint_id or e.id) == e.id and (not e.events or event.type in e.events
                                                               or event.endpoint_id is not None)]
            if rows:
                c.execute(webhook_deliveries.insert(), rows)
            return len(rows)

    # --- deliveries ------------------------------------------------------------------------

    def add_test(self, values: dict[str, Any], endpoint_id: str, now_ms: int) -> str:
        """A ``webhook.test`` event with its one delivery, ready to send; the delivery's id."""
        with self.engine.begin() as c:
            c.execute(webhook_events.insert().values(**{**values, "fanned_at": now_ms}))
            seq = c.execute(sa.select(webhook_events.c.seq).where(webhook_events.c.id == values["id"])).scalar_one()
            row = _delivery(EventRow(seq, values["id"], values["site_id"], values["type"], None, values["body"],
                                     values["created_at"]), endpoint_id, now_ms)
            c.execute(webhook_deliveries.insert().values(**row))
            return str(row["id"])

    def claim_one(self, delivery_id: str, now_ms: int, lease_ms: int) -> Claim | None:
        d, e, p = webhook_deliveries, webhook_events, webhook_endpoints
        free = sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now_ms)
        with self.engine.begin() as c:
            if c.execute(d.update().where(d.c.id == delivery_id, d.c.status == PENDING, free)
                         .values(lease_until=now_ms + lease_ms)).rowcount != 1:
                return None
            r = c.execute(sa.select(d.c.id, d.c.attempts, e.c.id.label("event_id"), e.c.body, p.c.url, p.c.secret,
                                    p.c.id.label("endpoint_id"))
                          .select_from(d.join(e, e.c.seq == d.c.event_seq).join(p, p.c.id == d.c.endpoint_id))
                          .where(d.c.id == delivery_id)).one()
            return Claim(r.id, r.attempts, r.event_id, r.body, r.url, r.secret, r.endpoint_id)

    def claim(self, now_ms: int, lease_ms: int, limit: int = 20) -> list[Claim]:
        """Take the lease of due deliveries whose session has no earlier delivery pending."""
        d, e, p = webhook_deliveries, webhook_events, webhook_endpoints
        earlier = d.alias("earlier")
        blocked = sa.exists().where(earlier.c.endpoint_id == d.c.endpoint_id, earlier.c.order_key == d.c.order_key,
                                    earlier.c.order_key != "", earlier.c.status == PENDING,
                                    earlier.c.event_seq < d.c.event_seq)
        # ...nor an earlier event still waiting for its fan-out (another dispatcher may hold it)
        unfanned = e.alias("unfanned")
        waiting = sa.exists().where(unfanned.c.session_id == d.c.order_key, unfanned.c.fanned_at.is_(None),
                                    unfanned.c.seq < d.c.event_seq)
        free = sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now_ms)
        with self.engine.begin() as c:
            query = (sa.select(d.c.id).select_from(d.join(p, p.c.id == d.c.endpoint_id))
                     .where(d.c.status == PENDING, d.c.next_attempt_at <= now_ms, free, p.c.disabled_at.is_(None),
                            ~blocked, ~waiting)
                     .order_by(d.c.event_seq).limit(limit))
            if self.is_postgres:
                query = query.with_for_update(of=d, skip_locked=True)
            ids = [r[0] for r in c.execute(query)]
            won = [i for i in ids if c.execute(d.update().where(d.c.id == i, d.c.status == PENDING, free)
                                               .values(lease_until=now_ms + lease_ms)).rowcount == 1]
            if not won:
                return []
            rows = c.execute(sa.select(d.c.id, d.c.attempts, e.c.id.label("event_id"), e.c.body, p.c.url, p.c.secret,
                                       p.c.id.label("endpoint_id"))
                             .select_from(d.join(e, e.c.seq == d.c.event_seq).join(p, p.c.id == d.c.endpoint_id))
                             .where(d.c.id.in_(won)).order_by(d.c.event_seq))
            return [Claim(r.id, r.attempts, r.event_id, r.body, r.url, r.secret, r.endpoint_id) for r in rows]

    def record_attempt(self, claim: Claim, *, now_ms: int, status_code: int | None, error: str | None,
                       duration_ms: int, ok: bool, retry_at_ms: int | None) -> None:
        """Log an attempt and settle the delivery: delivered, due again at ``retry_at_ms``, or —
        with no retry left — failed, which disables its endpoint."""
        d, p = webhook_deliveries, webhook_endpoints
        attempt = claim.attempts + 1
        with self.engine.begin() as c:
            c.execute(webhook_attempts.insert().values(
                id=str(uuid.uuid4()), delivery_id=claim.delivery_id, endpoint_id=claim.endpoint_id,
                event_id=claim.event_id, attempt=attempt, at=now_ms, status_code=status_code,
                error=(error or None) and error[:400], duration_ms=duration_ms))
            if ok:
                status, next_at = DELIVERED, now_ms
            elif retry_at_ms is not None:
                status, next_at = PENDING, retry_at_ms
            else:
                status, next_at = FAILED, now_ms
            c.execute(d.update().where(d.c.id == claim.delivery_id)
                      .values(status=status, attempts=attempt, next_attempt_at=next_at, lease_until=None,
                              updated_at=now_ms))
            if status == FAILED:
                c.execute(p.update().where(p.c.id == claim.endpoint_id, p.c.disabled_at.is_(None))
                          .values(disabled_at=now_ms // 1000, updated_at=now_ms,
                                  disabled_reason=f"event {claim.event_id} failed after {attempt} attempts"))

    def attempts(self, endpoint_id: str, limit: int = 100) -> list[AttemptRow]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(webhook_attempts).where(webhook_attempts.c.endpoint_id == endpoint_id)
                             .order_by(webhook_attempts.c.at.desc(), webhook_attempts.c.attempt.desc()).limit(limit))
            return [_from(AttemptRow, r) for r in rows]

    def delivery_states(self, event_id: str) -> Sequence[tuple[str, str, int]]:
        """(endpoint id, status, attempts) of each delivery of an event."""
        d, e = webhook_deliveries, webhook_events
        with self.engine.connect() as c:
            rows = c.execute(sa.select(d.c.endpoint_id, d.c.status, d.c.attempts)
                             .select_from(d.join(e, e.c.seq == d.c.event_seq)).where(e.c.id == event_id))
            return [(r[0], r[1], int(r[2])) for r in rows]

    def purge(self, before_ms: int) -> int:
        """Forget settled deliveries, their attempts and fanned-out events older than ``before_ms``."""
        d, e = webhook_deliveries, webhook_events
        with self.engine.begin() as c:
            done = c.execute(d.delete().where(d.c.status != PENDING, d.c.updated_at < before_ms)).rowcount
            c.execute(webhook_attempts.delete().where(webhook_attempts.c.at < before_ms))
            open_events = sa.select(d.c.event_seq).where(d.c.status == PENDING)
            gone = c.execute(e.delete().where(e.c.fanned_at.is_not(None), e.c.created_at < before_ms // 1000,
                                              e.c.seq.not_in(open_events))).rowcount
            return int(done) + int(gone)


def _delivery(event: EventRow, endpoint_id: str, now_ms: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "event_seq": event.seq, "endpoint_id": endpoint_id,
            "order_key": event.session_id or "", "status": PENDING, "attempts": 0, "next_attempt_at": now_ms,
            "lease_until": None, "created_at": now_ms, "updated_at": now_ms}
