"""Helpers for flow-page tests: a session of each flow intent, and submitting its page."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import GUID
from tests.identity import form_fields

CALLBACKS = {
    "postFlowUrl": "https://shop.example.com/after?src=hr",
    "thankYouPageUrl": "https://shop.example.com/thanks?src=hr",
    "cartPageUrl": "https://shop.example.com/cart",
    "planListUrl": "https://shop.example.com/plans?view=grid",
    "bookingsServiceListUrl": "https://shop.example.com/services",
}
SLOT = {"slot": {"serviceId": GUID, "startDate": "2026-03-29T02:30:00Z", "endDate": "2026-03-29T04:00:00Z",
                 "resource": {"name": "Dana"}}, "bookable": True}
INTENTS: dict[str, dict[str, Any]] = {
    "ecomCheckout": {"checkoutId": GUID},
    "eventsCheckout": {"reservationId": GUID, "eventSlug": "summer-party"},
    "paidPlansCheckout": {"planId": GUID},
    "ecomOrderPaymentRequest": {"paymentRequestId": GUID},
    "bookingsCheckout": {"timezone": "Europe/Berlin", "slotAvailability": SLOT},
    "storesProduct": {"productSlug": "linen-shirt"},
    "bookingsBook": {"resourceId": GUID},
}


def submit(client: TestClient, page_html: str, path: str, action: str = "complete", **extra: str) -> Any:
    data = {**form_fields(page_html), "action": action, **extra}
    choice = re.search(r'name="choice" value="([^"]+)"', page_html)
    if choice and "choice" not in data:
        data["choice"] = choice.group(1).replace("&#43;", "+")
    return client.post(path, data=data, follow_redirects=False)
