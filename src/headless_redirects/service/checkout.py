"""The hosted flow pages' use cases (SPEC §5): what a page shows, placing the order, and the booking
page's continuation. The site's flow provider is called in a worker thread (it may wait on a cart
or payment API), never on the event loop, and never inside a transaction.

Placing an order is three steps, each its own unit of work around the provider's call:

1. ``request_order``: OPENED → ORDERING (a second submission of the form finds the session
   ORDERING and orders nothing: :class:`SessionUsed`; only an order stalled for
   ``order_retry_after`` seconds, its process gone, may be requested again by its browser);
2. the provider places the order (``FlowProvider.place_order``);
3. ``order_placed``: ORDERING → COMPLETED with the order's parameters in the outcome, or, when the
   provider failed, ``order_failed``: ORDERING → OPENED, so the visitor can try again
   (:class:`OrderFailed`). The session is never COMPLETED without its order, nor left ORDERING
   by a provider's error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread
import msgspec

from ..domain.intents import Preferences, SessionRequest, parse_request
from ..domain.lifecycle import RedirectSession
from ..domain.outcomes import completion_parameters
from ..flows import Buyer, FlowProvider, FlowRequest, FlowView, ProviderContext, load_provider
from ..storage.identity import IdentityStore
from ..storage.orders import OrderStore
from .create_session import SessionService
from .flows import Browser, FlowError, FlowService, SessionNotFound
from .tenancy import TenantCache
from .tokens import Identity

__all__ = ["CheckoutService", "FlowPage", "OrderFailed", "Placed", "Providers", "ThankYou"]

T = TypeVar("T")
_log = logging.getLogger(__name__)


class OrderFailed(FlowError):
    """The provider could not place the order; the session is OPENED again."""

    kind, status = "order_failed", 502


class FlowPage(msgspec.Struct, frozen=True):
    """What a flow page shows: the provider's view and who is buying."""

    view: FlowView
    member_email: str | None


class Placed(msgspec.Struct, frozen=True):
    """A completed checkout: the session and its callback parameters (``thankYouPageUrl``)."""

    session: RedirectSession
    params: dict[str, str]


class ThankYou(msgspec.Struct, frozen=True):
    session: RedirectSession
    order_number: str


async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    """A flow provider's call, in a worker thread: whatever I/O it does never blocks the loop."""
    return await anyio.to_thread.run_sync(fn, *args)


class Providers:
    """Each site's flow provider (``sites.flow_provider``), loaded once per instance by name."""

    def __init__(self, tenants: TenantCache, orders: OrderStore) -> None:
        self.tenants = tenants
        self.context = ProviderContext(orders)
        self.loaded: dict[str, FlowProvider] = {}

    def __call__(self, site_id: str) -> FlowProvider:
        tenant = self.tenants.tenant(site_id)
        name = tenant.site.flow_provider if tenant is not None else "demo"
        provider = self.loaded.get(name)
        if provider is None:
            provider = self.loaded[name] = load_provider(name, self.context)
        return provider


class CheckoutService:
    def __init__(self, flows: FlowService, sessions: SessionService, tenants: TenantCache, identity: IdentityStore,
                 orders: OrderStore, provider_for: Callable[[str], FlowProvider],
                 run: Callable[..., Awaitable[Any]]) -> None:
        self.flows = flows
        self.sessions = sessions
        self.tenants = tenants
        self.identity = identity
        self.orders = orders
        self.provider_for = provider_for
        self.run = run  # Database.run: the blocking storage steps, off the loop's critical path

    @staticmethod
    def _request(session: RedirectSession, lang: str) -> FlowRequest:
        return FlowRequest(session.site_id, session.id, session.intent, session.params, lang)

    async def page(self, session: RedirectSession, browser: Browser, lang: str) -> FlowPage:
        view = await _in_thread(self.provider_for(session.site_id).view, self._request(session, lang))
        _visitor, member_id = self.flows.flow_identity(session, browser)
        member = await self.run(self.identity.get_member, member_id) if member_id else None
        return FlowPage(view, member.email if member is not None else None)

    async def place_order(self, session: RedirectSession, browser: Browser, lang: str) -> Placed:
        ordering = await self.run(self.flows.move, session, RedirectSession.request_order,
                                  self.flows.settings.order_retry_after)
        buyer = Buyer(*self.flows.flow_identity(session, browser))
        provider = self.provider_for(session.site_id)
        try:
            order = await _in_thread(provider.place_order, self._request(session, lang), buyer, None)
        except Exception:
            _log.exception("flow provider %s could not place the order of session %s",
                           type(provider).__name__, session.id)
            reopened = await self.run(self.flows.move, ordering, RedirectSession.order_failed)
            raise OrderFailed(reopened) from None
        params = completion_parameters(session.intent, order)
        member = {"memberId": buyer.member_id} if buyer.member_id else {}
        completed = await self.run(self.flows.move, ordering, RedirectSession.order_placed, {**params, **member})
        return Placed(completed, params)

    async def thank_you(self, session_id: str, browser: Browser) -> ThankYou:
        session = await self.run(self.flows.completed, session_id, browser)
        if not any(k in session.outcome for k in ("orderId", "planOrderId", "orderNumber")):
            raise SessionNotFound()  # completed without an order: not a checkout
        order = await self.run(self.orders.for_session, session.id)
        return ThankYou(session, order.number if order is not None else "")

    async def book(self, session: RedirectSession, lang: str, choice: Any) -> str | None:
        """The booking page leads on to a bookings checkout for the chosen slot: a new session
        with the same callbacks and preferences, opened by the same browser; its URL. ``None``
        when the choice is not one the page offered or leads nowhere. The slot comes from the
        site's provider and is validated like a ``bookingsCheckout`` sent to the API, so nothing
        the visitor posts reaches the new session."""
        provider = self.provider_for(session.site_id)
        flow = self._request(session, lang)
        view = await _in_thread(provider.view, flow)
        if not isinstance(choice, str) or choice not in {option.id for option in view.options}:
            return None
        follow_up = await self._booking_request(provider, flow, choice, session)
        tenant = self.tenants.tenant(session.site_id)
        if follow_up is None or tenant is None:
            return None
        # The checkout continues this flow, so it carries the identity this one does (maintainIdentity).
        creator = None
        if session.creator_type and session.creator_id:
            creator = Identity(session.creator_type, session.creator_id, session.site_id, session.client_id or "",
                               "", 0.0, 0.0)
        new, _created = self.sessions.new_session(tenant, follow_up, creator, None, session.client_id)
        await self.run(self.flows.move_with, session, RedirectSession.complete, ({"continued": True},),
                       lambda uow: uow.sessions.add(new))
        return new.full_url

    async def _booking_request(self, provider: FlowProvider, flow: FlowRequest, choice: str,
                               session: RedirectSession) -> SessionRequest | None:
        """The ``bookingsCheckout`` request an offered choice continues to, or ``None`` when the
        provider has none or gives one the API would refuse (logged: that is the provider's bug)."""
        intent = await _in_thread(provider.booking_checkout, flow, choice)
        if intent is None:
            return None
        parsed, violations = parse_request({"bookingsCheckout": intent})
        if parsed is None or violations:
            _log.warning("flow provider %s: the booking of option %r is not a valid bookingsCheckout: %s",
                         type(provider).__name__, choice, "; ".join(f"{v.field}: {v.description}" for v in violations))
            return None
        prefs = session.preferences
        return SessionRequest(
            intent="bookingsCheckout",
            params=parsed.params,
            callbacks=dict(session.callbacks),
            preferences=Preferences(prefs.get("useGenericWixPages", True), prefs.get("maintainIdentity", True),
                                    dict(prefs.get("additionalQueryParameters", {})),
                                    prefs.get("checkIfPublish", False)),
            origin=session.origin,
        )
