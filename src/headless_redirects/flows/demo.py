"""The built-in demo provider: a small catalog, so a fresh install shows real-looking flows for
any id it is given. Ids map to catalog entries deterministically (the same checkout id always
shows the same cart); orders are stored in the ``orders`` table."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from babel.dates import format_datetime

from ..domain.outcomes import PlacedOrder
from ..domain.sessions import new_guid
from ..domain.timezones import slot_times
from ..storage.orders import OrderRow
from .provider import Buyer, FlowProvider, FlowRequest, FlowView, LineItem, Option

__all__ = ["DemoProvider", "decode_checkout_data", "encode_checkout_data"]

PRODUCTS = [("Linen shirt", "49.00"), ("Ceramic mug", "18.00"), ("Canvas tote", "24.00"),
            ("Wool beanie", "29.00"), ("Notebook, dotted", "12.50")]
PLANS = [("Basic plan", "9.00"), ("Pro plan", "29.00"), ("Studio plan", "79.00")]
SERVICES = [("Yoga class", "20.00", 60), ("Personal training", "65.00", 45), ("Pottery workshop", "45.00", 120)]
STAFF = ["Dana", "Amir", "Lena"]
TICKET = ("General admission", "35.00")
EVENT_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4f5b-9a77-2b1e4f0d9c11")


def _pick(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % n


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def encode_checkout_data(session_id: str, plan_id: str) -> str:
    """The opaque ``checkoutData`` handed to ``planListUrl``: it names the checkout it resumes."""
    raw = json.dumps({"s": session_id, "p": plan_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_checkout_data(value: str) -> dict[str, str] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str) or not isinstance(data.get("p"), str):
        return None
    return {"session_id": data["s"], "plan_id": data["p"]}


class DemoProvider(FlowProvider):
    def view(self, request: FlowRequest) -> FlowView:
        p, intent = request.params, request.intent
        if intent == "ecomCheckout":
            key = p["checkoutId"]
            items = [LineItem(*PRODUCTS[_pick(f"{key}:{i}", len(PRODUCTS))][:1], 1 + _pick(f"{key}:q{i}", 2),
                              PRODUCTS[_pick(f"{key}:{i}", len(PRODUCTS))][1]) for i in range(1 + _pick(key, 3))]
            return self._priced("Checkout", items)
        if intent == "ecomOrderPaymentRequest":
            amount = Decimal(20 + _pick(p["paymentRequestId"], 180))
            return self._priced("Payment request", [LineItem(f"Invoice {p['paymentRequestId'][:8].upper()}", 1,
                                                             _money(amount))])
        if intent == "paidPlansCheckout":
            name, price = PLANS[_pick(p["planId"], len(PLANS))]
            note = None
            resumed = decode_checkout_data(p.get("checkoutData") or "")
            if resumed is not None and resumed["plan_id"] != p["planId"]:
                note = f"Changed from {PLANS[_pick(resumed['plan_id'], len(PLANS))][0]}"
            view = self._priced("Pricing plan", [LineItem(name, 1, price)], [("Billing", "Monthly")])
            return FlowView(**{**_fields(view), "note": note})
        if intent == "eventsCheckout":
            title = p["eventSlug"].replace("-", " ").replace("_", " ").title()
            quantity = 1 + _pick(p["reservationId"], 3)
            return self._priced(title, [LineItem(TICKET[0], quantity, TICKET[1])],
                                [("Reservation", p["reservationId"][:8].upper())])
        if intent == "bookingsCheckout":
            return self._booking_checkout(request)
        if intent == "storesProduct":
            name, price = PRODUCTS[_pick(p["productSlug"], len(PRODUCTS))]
            return self._priced(name, [LineItem(name, 1, price)], [("Product", p["productSlug"])])
        if intent == "bookingsBook":
            return self._booking_page(request)
        raise ValueError(f"the demo provider has no page for {intent}")

    def place_order(self, request: FlowRequest, buyer: Buyer, choice: str | None = None) -> PlacedOrder:
        placed = self.context.orders.for_session(request.session_id)
        if placed is not None:  # asked again (an answer lost on the way back): the same order
            return PlacedOrder(placed.id, placed.number, placed.event_id)
        view = self.view(request)
        event_id = None
        if request.intent == "eventsCheckout":
            event_id = str(uuid.uuid5(EVENT_NAMESPACE, request.params["eventSlug"]))
        order = OrderRow(
            id=new_guid(), site_id=request.site_id, session_id=request.session_id, intent=request.intent,
            number=str(10000 + secrets.randbelow(90000)), event_id=event_id, visitor_id=buyer.visitor_id,
            member_id=buyer.member_id, currency=view.currency, total=view.total,
            items=[{"name": i.name, "quantity": i.quantity, "unitPrice": i.unit_price} for i in view.items],
            created_at=int(time.time()),
        )
        self.context.orders.insert(order)
        return PlacedOrder(order.id, order.number, event_id)

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _priced(title: str, items: list[LineItem], details: list[tuple[str, str]] | None = None) -> FlowView:
        total = sum((Decimal(i.unit_price) * i.quantity for i in items), Decimal(0))
        return FlowView(title=title, items=items, total=_money(total), details=details or [])

    def _booking_checkout(self, request: FlowRequest) -> FlowView:
        sa = request.params["slotAvailability"]
        slot = sa["slot"]
        name, price, _minutes = SERVICES[_pick(slot["serviceId"], len(SERVICES))]
        start, end, zone = slot_times(slot["startDate"], slot["endDate"], request.params.get("timezone"),
                                      slot.get("timezone"))
        when = (f"{format_datetime(start, 'medium', locale=request.lang)} – "
                f"{format_datetime(end, 'short', locale=request.lang)}")
        details = [("When", when), ("Time zone", zone)]
        if slot.get("resource", {}).get("name"):
            details.append(("With", slot["resource"]["name"]))
        if slot.get("location", {}).get("name"):
            details.append(("Where", slot["location"]["name"]))
        return self._priced(name, [LineItem(name, 1, price)], details)

    def _booking_page(self, request: FlowRequest) -> FlowView:
        resource = request.params.get("resourceId")
        staff = STAFF[_pick(resource, len(STAFF))] if resource else None
        base = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        options = []
        for day in range(2):
            for hour in (9, 13, 17):
                start = base.replace(hour=hour) + timedelta(days=day)
                index = (day * 3 + hour) % len(SERVICES)
                name, _price, minutes = SERVICES[index]
                who = staff or STAFF[index % len(STAFF)]
                label = f"{name} with {who}, {format_datetime(start, 'medium', locale=request.lang)}"
                options.append(Option(f"{index}|{start.isoformat()}|{minutes}|{who}", label))
        return FlowView(title="Book a session", options=options,
                        details=[("Staff", staff)] if staff else [])

    def booking_checkout(self, request: FlowRequest, choice: str) -> dict[str, Any] | None:
        """The slot of one of :meth:`_booking_page`'s options (its id names it)."""
        index_text, start_text, minutes_text, who = choice.split("|")
        index, minutes = int(index_text), int(minutes_text)
        start = datetime.fromisoformat(start_text)
        end = start + timedelta(minutes=minutes)
        service_id = str(uuid.uuid5(EVENT_NAMESPACE, f"service:{index}"))
        while SERVICES[_pick(service_id, len(SERVICES))][0] != SERVICES[index][0]:
            service_id = str(uuid.uuid5(EVENT_NAMESPACE, service_id))
        slot = {"serviceId": service_id, "startDate": start.isoformat(timespec="seconds") + "Z",
                "endDate": end.isoformat(timespec="seconds") + "Z", "resource": {"name": who}}
        return {"timezone": "UTC", "slotAvailability": {"slot": slot, "bookable": True}}


def _fields(view: FlowView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in view.__slots__}
