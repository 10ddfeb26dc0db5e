"""In-memory fakes of the repositories and the unit of work (cosmicpython's ``FakeUnitOfWork``),
for the domain and service tests: no database, no files, milliseconds a test.

The fake commits with the production staging (``service.unit_of_work.UnitOfWork``): a saved
session is written only if the stored one is still at the state and version it was read at,
and nothing is written when one is not, exactly as ``storage.unit_of_work`` does in SQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from headless_redirects.domain.lifecycle import RedirectSession
from headless_redirects.domain.outcomes import PlacedOrder
from headless_redirects.domain.sessions import new_session_id
from headless_redirects.flows import Buyer, FlowProvider, FlowRequest, FlowView, LineItem, ProviderContext
from headless_redirects.service.unit_of_work import Changes, Conflict, UnitOfWork
from headless_redirects.storage.identity import AuthorizationCodeRow


@dataclass
class FakeDatabase:
    """What the SQL unit of work writes to, as dictionaries."""

    sessions: dict[str, RedirectSession] = field(default_factory=dict)
    codes: dict[str, AuthorizationCodeRow] = field(default_factory=dict)
    answers: dict[str, tuple[int, str]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork(UnitOfWork):
    __slots__ = ("db",)

    def __init__(self, db: FakeDatabase, events: Any = None) -> None:
        super().__init__(db.sessions.get, events)
        self.db = db

    def _write(self, changes: Changes) -> None:
        for before, _after in changes.moved:
            stored = self.db.sessions.get(before.id)
            if stored is None or stored.state != before.state or stored.version != before.version:
                raise Conflict("the session changed since it was read")
        for session in changes.added:
            if session.id in self.db.sessions:
                raise ValueError(f"session {session.id} exists")  # the primary key, as SQL has it
        for _before, after in changes.moved:
            self.db.sessions[after.id] = after
        for session in changes.added:
            self.db.sessions[session.id] = session
        for code in changes.codes:
            self.db.codes[code.code_hash] = code
        for key, status, body in changes.answers:
            self.db.answers[key] = (status, body)
        self.db.events.extend(changes.events)
        self.db.commits += 1


class FakeRegistry:
    """``WebhookRegistry`` for sites that have webhooks (``sites``)."""

    def __init__(self, *sites: str) -> None:
        self.sites = frozenset(sites)

    def wants(self, site_id: str) -> bool:
        return site_id in self.sites


class FakeProvider(FlowProvider):
    """A flow provider whose ``place_order`` fails while ``failing`` is set, and records calls."""

    def __init__(self) -> None:
        super().__init__(ProviderContext(None))
        self.failing = False
        self.orders: list[tuple[str, Buyer]] = []
        self.before_order: Callable[[], None] | None = None

    def view(self, request: FlowRequest) -> FlowView:
        return FlowView("Checkout", [LineItem("Mug", 1, "12.00")], total="12.00")

    def place_order(self, request: FlowRequest, buyer: Buyer, choice: str | None = None) -> PlacedOrder:
        if self.before_order is not None:
            self.before_order()
        if self.failing:
            raise ConnectionError("the cart service is down")
        self.orders.append((request.session_id, buyer))
        return PlacedOrder(f"order-{len(self.orders)}", str(10000 + len(self.orders)))


async def run(fn: Callable[..., Any], *args: Any) -> Any:
    """``Database.run`` without a database: the call, on the loop."""
    return fn(*args)


def new_session(intent: str = "ecomCheckout", *, state: str = "CREATED", site_id: str = "site-1",
                ttl: int = 600, params: dict[str, Any] | None = None, **values: Any) -> RedirectSession:
    now = int(time.time())
    if params is None:
        params = {"checkoutId": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"} if intent == "ecomCheckout" else {}
    session_id = values.pop("id", None) or new_session_id()
    return RedirectSession(session_id, site_id, "client-1", intent, params, {}, {}, None, None, None, None, state,
                           now, now + ttl, f"https://h/flow?redirectSessionId={session_id}", **values)
