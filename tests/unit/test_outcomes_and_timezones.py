"""Outcome parameters of every flow intent, and the bookings time-zone rule."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from headless_redirects.domain.outcomes import PlacedOrder, back_target, callback, completion_parameters
from headless_redirects.domain.timezones import slot_times

ORDER = PlacedOrder(order_id="0fc930e0-5bc6-4dfe-b828-4d56c40a0c07", order_number="10042",
                    event_id="5d4b1b4a-7f3c-4b8e-9a41-2f6a0c9e1d22")


@pytest.mark.parametrize(("intent", "expected"), [
    ("ecomCheckout", {"orderId": ORDER.order_id}),
    ("bookingsCheckout", {"orderId": ORDER.order_id}),
    ("ecomOrderPaymentRequest", {"orderId": ORDER.order_id}),
    ("bookingsBook", {"orderId": ORDER.order_id}),
    ("paidPlansCheckout", {"planOrderId": ORDER.order_id}),
    ("eventsCheckout", {"orderNumber": "10042", "eventId": ORDER.event_id}),
])
def test_completion_parameters(intent: str, expected: dict[str, str]) -> None:
    assert completion_parameters(intent, ORDER) == expected


def test_callback_keeps_the_urls_query_and_adds_member_flag() -> None:
    assert callback("https://a.com/ty?src=mail#top", {"orderId": "1"}, True) == \
        "https://a.com/ty?src=mail&orderId=1&wixMemberLoggedIn=true#top"
    assert callback("https://a.com/after", {}, False) == "https://a.com/after?wixMemberLoggedIn=false"


@pytest.mark.parametrize(("intent", "callback_name"), [
    ("ecomCheckout", "cartPageUrl"), ("storesProduct", "cartPageUrl"),
    ("bookingsCheckout", "bookingsServiceListUrl"), ("bookingsBook", "bookingsServiceListUrl"),
    ("paidPlansCheckout", "planListUrl"),
])
def test_back_targets(intent: str, callback_name: str) -> None:
    callbacks = {callback_name: "https://a.com/list?x=1"}
    params = {"planIds": "p1", "checkoutData": "cd"} if intent == "paidPlansCheckout" else {}
    target = back_target(intent, callbacks, params, False)
    assert target is not None and target.startswith("https://a.com/list?x=1&")
    assert target.endswith("wixMemberLoggedIn=false")
    if intent == "paidPlansCheckout":
        assert "planIds=p1&checkoutData=cd" in target
    assert back_target(intent, {}, params, False) is None


def test_checkout_timezone_makes_dates_local_and_ignores_offsets() -> None:
    start, end, zone = slot_times("2026-07-01T10:00:00+09:00", "2026-07-01T11:00:00Z", "America/Santiago", "Asia/Tokyo")
    assert zone == "America/Santiago"
    assert (start.hour, start.minute, end.hour) == (10, 0, 11)  # offsets ignored: local 10:00-11:00
    assert start.utcoffset() == timedelta(hours=-4)


def test_without_checkout_timezone_the_slot_zone_shows_the_instant() -> None:
    start, end, zone = slot_times("2026-07-01T10:00:00Z", "2026-07-01T11:00:00Z", None, "Europe/Berlin")
    assert zone == "Europe/Berlin" and (start.hour, end.hour) == (12, 13)


def test_without_any_zone_the_offset_as_sent() -> None:
    start, _, _ = slot_times("2026-07-01T10:00:00+02:00", "2026-07-01T11:00:00+02:00", None, None)
    assert start.hour == 10 and start.utcoffset() == timedelta(hours=2)


def test_dst_spring_forward_gap() -> None:
    # Europe/Berlin skips 02:00-03:00 on 2026-03-29: a 02:30 local start becomes 03:30 CEST
    start, end, _ = slot_times("2026-03-29T02:30:00Z", "2026-03-29T04:00:00Z", "Europe/Berlin", None)
    assert (start.hour, start.minute) == (3, 30) and start.utcoffset() == timedelta(hours=2)
    assert end.hour == 4


def test_dst_fall_back_ambiguous_hour_takes_the_first() -> None:
    # 02:30 happens twice on 2026-10-25 in Berlin; the first is still CEST (+02:00)
    start, _, _ = slot_times("2026-10-25T02:30:00-07:00", "2026-10-25T03:30:00-07:00", "Europe/Berlin", None)
    assert start.hour == 2 and start.utcoffset() == timedelta(hours=2)


def test_slot_across_dst_keeps_its_wall_clock_length() -> None:
    start, end, _ = slot_times("2026-03-29T01:00:00Z", "2026-03-29T04:00:00Z", "Europe/Berlin", None)
    assert (start.hour, end.hour) == (1, 4)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)  # three wall-clock hours, two real
