"""Webhooks per the Standard Webhooks specification (SPEC §12).

- :class:`WebhookRegistry` knows which sites have endpoints (checked at most once a second),
  so a site without webhooks writes no events and pays nothing on the hot path.
- :class:`EventWriter` builds the outbox rows written in the same transaction as the change they
  report (``service.unit_of_work``, ``storage.identity``).
- :class:`Dispatcher` runs in every instance: it fans events out to deliveries, claims due ones
  (leases; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), POSTs them signed, outside any
  transaction, and records each attempt. At least once, in order per session; a failure is
  retried on the schedule with jitter, and the last failure disables the endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
from standardwebhooks.webhooks import Webhook

from ..domain.callbacks import UrlProblem, parse_absolute_url
from ..domain.lifecycle import RedirectSession
from ..storage.webhooks import Claim, EndpointRow, WebhookStore
from . import counters
from .member_view import member_wire
from .session_view import rfc3339, session_info

__all__ = ["EVENT_TYPES", "Dispatcher", "EventWriter", "WebhookRegistry", "new_endpoint", "parse_schedule",
           "sign_headers"]

log = logging.getLogger("headless_redirects.webhooks")
_encode = msgspec.json.Encoder().encode

CREATED, OPENED, COMPLETED, ABANDONED, EXPIRED = (f"redirect_session.{s}" for s in (
    "created", "opened", "completed", "abandoned", "expired"))
MEMBER_CREATED = "member.created"
TEST = "webhook.test"
EVENT_TYPES = (CREATED, OPENED, COMPLETED, ABANDONED, EXPIRED, MEMBER_CREATED)
# About three days: Standard Webhooks' suggested shape, stretched (seconds before each retry).
DEFAULT_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400)
TIMEOUT = 15.0


def parse_schedule(value: str) -> tuple[float, ...]:
    """``HEADLESS_REDIRECTS_WEBHOOK_RETRY_SCHEDULE``: comma-separated seconds; empty = default."""
    if not value.strip():
        return DEFAULT_SCHEDULE
    delays = tuple(float(v) for v in value.split(","))
    if any(d < 0 for d in delays):
        raise ValueError("webhook retry delays must be ≥ 0 seconds")
    return delays


def new_endpoint(site_id: str, url: str, events: Sequence[str]) -> EndpointRow:
    """A new endpoint with a fresh ``whsec_`` secret; ``ValueError`` for a bad URL or event."""
    parsed = parse_absolute_url(url)
    if isinstance(parsed, UrlProblem):
        raise ValueError(f"webhook URL {url!r} {parsed.description}")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    now_ms = time.time_ns() // 1_000_000
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    return EndpointRow(str(uuid.uuid4()), site_id, url, list(dict.fromkeys(events)), secret, now_ms // 1000, now_ms)


def sign_headers(secret: str, event_id: str, body: str, now: float | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (a fresh timestamp each time)."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, moment, body),
        "content-type": "application/json",
    }


def _event_id() -> str:
    return "msg_" + uuid.uuid4().hex


class WebhookRegistry:
    """Which sites have enabled endpoints, refreshed at most every ``interval`` seconds."""

    def __init__(self, store: WebhookStore, interval: float = 1.0) -> None:
        self.store = store
        self.interval = interval
        self._next = 0.0
        self._fingerprint: tuple[int, int] | None = None
        self._sites: frozenset[str] = frozenset()

    def wants(self, site_id: str) -> bool:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval
            fingerprint = self.store.fingerprint()
            if fingerprint != self._fingerprint:
                self._sites = self.store.sites_with_endpoints()
                self._fingerprint = fingerprint
        return site_id in self._sites

    @property
    def sites(self) -> frozenset[str]:
        return self._sites


class EventWriter:
    """Outbox rows for session and member events; ``None`` when the site has no webhooks."""

    def __init__(self, registry: WebhookRegistry, public_url: str) -> None:
        self.registry = registry
        self.public_url = public_url
        self.on_write: Callable[[], None] | None = None  # the dispatcher's wake-up

    def written(self) -> None:
        """Events were committed: let the dispatcher look now rather than at its next poll."""
        if self.on_write is not None:
            self.on_write()

    def member_event(self, member: Any) -> dict[str, Any] | None:

        if not self.registry.wants(member.site_id):
            return None
        return self.build(member.site_id, MEMBER_CREATED, {"member": member_wire(member)})

    def row(self, site_id: str, event_type: str, data: dict[str, Any], session_id: str | None = None,
            now: float | None = None) -> dict[str, Any] | None:
        if not self.registry.wants(site_id):
            return None
        return self.build(site_id, event_type, data, session_id, now)

    @staticmethod
    def build(site_id: str, event_type: str, data: dict[str, Any], session_id: str | None = None,
              now: float | None = None, endpoint_id: str | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        stamp = rfc3339(now)[:-1] + f".{int(now * 1000) % 1000:03d}Z"
        body = _encode({"type": event_type, "timestamp": stamp, "data": data}).decode()
        return {"id": _event_id(), "site_id": site_id, "type": event_type, "session_id": session_id, "body": body,
                "created_at": int(now), "fanned_at": None, "endpoint_id": endpoint_id}

    def session_event(self, session: RedirectSession, event_type: str) -> dict[str, Any] | None:
        if not self.registry.wants(session.site_id):
            return None
        now = time.time()
        return self.build(session.site_id, event_type,
                          {"redirectSession": session_info(session, self.public_url, now)}, session.id, now)


class Dispatcher:
    """Delivers the outbox; one per process, started with the first request."""

    def __init__(self, store: WebhookStore, run: Any, schedule: Sequence[float], *, poll: float = 1.0,
                 sweep: Any = None) -> None:
        self.store = store
        self.run = run  # Database.run: blocking storage calls from async code
        self.schedule = tuple(schedule)
        self.poll = poll
        self.sweep = sweep
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._task = self._loop.create_task(self._main(), name="webhook-dispatcher")

    def stop(self) -> None:
        task, loop = self._task, self._loop
        if task is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        self._task = None

    def wake(self) -> None:
        """Look for work now (an event was just committed)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _main(self) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
            while True:
                try:
                    busy = await self.tick(http)
                except Exception:  # noqa: BLE001 - a bad tick must not end delivery for good
                    log.exception("webhook dispatch failed; retrying")
                    busy = False
                if not busy:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.poll)
                    except TimeoutError:
                        pass

    async def tick(self, http: httpx.AsyncClient) -> bool:
        """One round: sweep, fan out, deliver what is due. ``True`` when it found work."""
        now_ms = time.time_ns() // 1_000_000
        if self.sweep is not None:
            await self.run(self.sweep, int(now_ms // 1000))
        fanned = await self.run(self.store.fan_out, now_ms)
        claims = await self.run(self.store.claim, now_ms, int(TIMEOUT * 1000) + 15_000)
        if claims:
            await asyncio.gather(*(self.deliver(http, c) for c in claims))
        return bool(fanned or claims)

    async def deliver(self, http: httpx.AsyncClient, claim: Claim) -> int | None:
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = await http.post(claim.url, content=claim.body.encode(),
                                       headers=sign_headers(claim.secret, claim.event_id, claim.body))
            status = response.status_code
            ok = 200 <= status < 300
            if not ok:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"[:400]
        counters.webhook_deliveries.labels("delivered" if ok else "failed").inc()
        now_ms = time.time_ns() // 1_000_000
        retry_at = None
        if not ok and claim.attempts < len(self.schedule):
            delay = self.schedule[claim.attempts] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy
            retry_at = now_ms + int(delay * 1000)
        await self.run(self.store.record_attempt, claim, now_ms=now_ms, status_code=status, error=error,
                       duration_ms=int((time.monotonic() - started) * 1000), ok=ok, retry_at_ms=retry_at)
        if not ok:
            log.warning("webhook delivery failed", extra={"event_id": claim.event_id, "endpoint_id": claim.endpoint_id,
                                                           "status": status, "error": error,
                                                           "retry": retry_at is not None})
        return status
