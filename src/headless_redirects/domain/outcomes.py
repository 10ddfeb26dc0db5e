"""Where a finished flow sends the visitor, and with which query parameters (SPEC §5).

Every redirect to a callback keeps that URL's own query and adds ``wixMemberLoggedIn``; a
completed checkout adds what identifies the order it created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .callbacks import add_query

__all__ = ["PlacedOrder", "back_target", "callback", "completion_parameters"]


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """What a flow provider returns when it places an order."""

    order_id: str
    order_number: str
    event_id: str | None = None


def completion_parameters(intent: str, order: PlacedOrder) -> dict[str, str]:
    """The thank-you page's parameters (the ``thankYouPageUrl`` documentation)."""
    if intent == "paidPlansCheckout":
        return {"planOrderId": order.order_id}
    if intent == "eventsCheckout":
        assert order.event_id is not None
        return {"orderNumber": order.order_number, "eventId": order.event_id}
    return {"orderId": order.order_id}


def callback(url: str, params: Mapping[str, str], member_logged_in: bool) -> str:
    return add_query(url, {**params, "wixMemberLoggedIn": "true" if member_logged_in else "false"})


# The "back" control of each flow page: which callback it leads to.
_BACK = {
    "ecomCheckout": "cartPageUrl",
    "storesProduct": "cartPageUrl",
    "ecomOrderPaymentRequest": "cartPageUrl",
    "bookingsCheckout": "bookingsServiceListUrl",
    "bookingsBook": "bookingsServiceListUrl",
    "paidPlansCheckout": "planListUrl",
    "eventsCheckout": "postFlowUrl",
}


def back_target(intent: str, callbacks: Mapping[str, str], params: Mapping[str, str],
                member_logged_in: bool) -> str | None:
    """The back link's destination; for plans, ``planListUrl`` with ``planIds`` and the
    ``checkoutData`` that resumes this checkout when passed back."""
    name = _BACK.get(intent)
    url = callbacks.get(name) if name else None
    if url is None:
        return None
    return callback(url, params, member_logged_in)
