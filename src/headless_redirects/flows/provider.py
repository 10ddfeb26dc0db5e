"""The flow-provider interface.

A provider answers two questions for a hosted flow page: what does the visitor see
(:meth:`FlowProvider.view`), and what happens when they complete it
(:meth:`FlowProvider.place_order`); a booking page also says which checkout a chosen slot leads to
(:meth:`FlowProvider.booking_checkout`). The hosted site does the rest: landing rules, buttons,
callbacks and their parameters, and the session's life cycle. Its calls run in a worker thread,
so a provider may block on I/O (a cart or payment API) without stalling other requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..domain.outcomes import PlacedOrder

__all__ = ["Buyer", "FlowProvider", "FlowRequest", "FlowView", "LineItem", "Option", "ProviderContext"]


@dataclass(frozen=True, slots=True)
class FlowRequest:
    """One flow page: the session's intent and its validated parameters."""

    site_id: str
    session_id: str
    intent: str
    params: dict[str, Any]
    lang: str


@dataclass(frozen=True, slots=True)
class Buyer:
    visitor_id: str | None
    member_id: str | None


@dataclass(frozen=True, slots=True)
class LineItem:
    name: str
    quantity: int
    unit_price: str  # decimal string in the view's currency, e.g. "18.00"


@dataclass(frozen=True, slots=True)
class Option:
    """A choice the visitor makes on the page (a booking slot)."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class FlowView:
    title: str
    items: list[LineItem] = field(default_factory=list)
    currency: str = "USD"
    total: str = "0.00"
    details: list[tuple[str, str]] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What the service hands a provider: a place to store the orders it places."""

    orders: Any  # storage.orders.OrderStore


class FlowProvider(ABC):
    """Subclass and name it in a site's ``flow_provider`` as ``package.module:Class``."""

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @abstractmethod
    def view(self, request: FlowRequest) -> FlowView:
        """What the page shows for this intent and these parameters."""

    @abstractmethod
    def place_order(self, request: FlowRequest, buyer: Buyer, choice: str | None = None) -> PlacedOrder:
        """Create the order (and take payment); ``choice`` is the option picked, if any.

        Called once per completed checkout, in a worker thread, while the session is ORDERING
        (``domain.lifecycle``). Raising leaves the session OPENED, and the visitor may submit
        again, so the same session may be ordered again after a failure: make it idempotent on
        ``request.session_id`` (return the order already placed for it), as the demo does."""

    def booking_checkout(self, request: FlowRequest, choice: str) -> dict[str, Any] | None:
        """The booking page (``bookingsBook``): the ``bookingsCheckout`` intent that the chosen
        option leads on to, as the Create Redirect Session API takes it
        (``{"slotAvailability": {"slot": {...}, ...}, "timezone": ...}``), and validated like it.
        ``choice`` is an :attr:`Option.id` that :meth:`view` offers on this page (the hosted
        site checks that first). ``None``, the default: the option leads nowhere."""
        return None
