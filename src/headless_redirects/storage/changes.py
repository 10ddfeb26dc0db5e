"""Where a process hears that sites, apps, API keys, signing keys or revocations changed, on any
instance.

On PostgreSQL a trigger on each of those tables notifies channel ``headless_redirects_changes``
with the table's name when a change commits (migrations 0006 and 0008), whoever made it: an
instance, the CLI, SQL by hand. Each server process listens on one connection of its own, in a
thread (a blocking wait, off the event loop, costing nothing per request), and tells the caches
(``TenantCache``, ``KeyRing``, the CORS ``OriginCache``, the revocations ``TokenRepository``
remembers), which drop what they hold. A notification arrives within milliseconds of the commit.

If the listening connection drops, every cache is told that everything changed (``ALL``),
and again once it is back, since notifications sent in between are lost; while it is down the
caches fall back on their own expiry (``live`` is false).

SQLite has no notifications; it serves one machine, and its caches expire on their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

__all__ = ["ALL", "CHANNEL", "ChangeFeed", "PostgresListener"]

CHANNEL = "headless_redirects_changes"
ALL = "*"  # the payload that means: anything may have changed

log = logging.getLogger(__name__)


class ChangeFeed:
    """Calls its subscribers with a table's name when that table changed."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[str], None]] = []
        self.live = False  # changes are pushed right now: caches need not poll
        self.received = 0  # notifications seen (for tests and metrics)
        self.backend_pid: int | None = None  # the listening connection's server process

    def subscribe(self, callback: Callable[[str], None]) -> None:
        self._subscribers.append(callback)

    def publish(self, table: str) -> None:
        self.received += 1
        for callback in self._subscribers:
            try:
                callback(table)
            except Exception:  # noqa: BLE001 - one cache's failure must not starve the others
                log.exception("a change subscriber failed")


class PostgresListener(threading.Thread):
    """LISTENs on its own connection and publishes each notification to ``feed``."""

    def __init__(self, url: str, feed: ChangeFeed, *, retry_seconds: float = 1.0) -> None:
        super().__init__(name="pg-change-listener", daemon=True)
        self.url = _libpq_url(url)
        self.feed = feed
        self.retry_seconds = retry_seconds
        self._stopped = threading.Event()
        self._conn: psycopg.Connection | None = None
        self.listening = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    self._conn = conn
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.feed.backend_pid = conn.info.backend_pid
                    self.feed.live = True
                    self.feed.publish(ALL)  # whatever happened while nobody listened
                    self.listening.set()
                    while not self._stopped.is_set():
                        for notify in conn.notifies(timeout=0.5):
                            self.feed.publish(notify.payload or ALL)
            except psycopg.Error as exc:
                if not self._stopped.is_set():
                    log.warning("change notifications interrupted (%s); retrying", exc)
            finally:
                self._conn = None
                self.feed.live = False
                self.listening.clear()
            if not self._stopped.is_set():
                self.feed.publish(ALL)
                self._stopped.wait(self.retry_seconds)

    def stop(self) -> None:
        self._stopped.set()
        self.join(5)


def _libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq spells it."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)
