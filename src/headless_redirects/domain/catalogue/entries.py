"""The ten intents of Create Redirect Session (SPEC §3) and their hosted flows (SPEC §5).

Adding an intent is one entry here (plus its page template); the validator, the session URL,
the flow pages, the outcome, the OpenAPI schema and the SDK's typed parameters follow from it.
"""

from __future__ import annotations

from typing import Any

from ..errors import Rule
from ..fields import Reader, parse_rfc3339
from .entry import Intent, choice, count, flag, group, guid, instant, text, zone

__all__ = ["ENTRIES"]

_SLUG = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
# RFC 7636 §4.2: 43 to 128 characters of the unreserved set.
_PKCE_CHALLENGE = r"^[A-Za-z0-9._~-]{43,128}$"
_LOCATION_TYPES = ("UNDEFINED", "OWNER_BUSINESS", "OWNER_CUSTOM", "CUSTOM")
_POLICY_FLAGS = ("tooEarlyToBook", "tooLateToBook", "bookOnlineDisabled", "validSubmissionRequired")
# Shown in any zone, a slot from 1900 to 9998 stays on the calendar Python can hold (a slot in
# year 1 or 9999 moved by a zone's offset falls off it).
SLOT_YEARS = (1900, 9998)


def _end_after_start(r: Reader, values: dict[str, Any], path: str) -> None:
    """A slot ends after it starts, compared as wall-clock times: with ``timezone`` given the
    dates' offsets are ignored (SPEC §3)."""
    slot = values.get("slotAvailability", {}).get("slot", {})
    start, end = slot.get("startDate"), slot.get("endDate")
    if start is None or end is None:
        return
    start_at, end_at = parse_rfc3339(start), parse_rfc3339(end)
    if start_at is not None and end_at is not None and end_at.replace(tzinfo=None) <= start_at.replace(tzinfo=None):
        r.fail(f"{path}.slotAvailability.slot.endDate", Rule.VALIDATION, "must be after startDate")


def _redirect_uri_unless_web_message(r: Reader, values: dict[str, Any], path: str) -> None:
    request = values.get("authRequest")
    if request is not None and "redirectUri" not in request and request.get("responseMode") != "web_message":
        r.fail(f"{path}.authRequest.redirectUri", Rule.REQUIRED_FIELD, "is required unless responseMode is web_message")


_SLOT_AVAILABILITY = group(
    "slotAvailability",
    group(
        "slot",
        guid("serviceId", required=True),
        guid("scheduleId"),
        instant("startDate", required=True, years=SLOT_YEARS),
        instant("endDate", required=True, years=SLOT_YEARS),
        zone("timezone"),
        text("eventId", 256),
        group("resource", guid("id"), text("name", 256)),
        group(
            "location",
            guid("id"),
            text("name", 256),
            text("formattedAddress", 1024),
            text("formattedAddressTranslated", 1024),
            choice("locationType", _LOCATION_TYPES),
        ),
        required=True,
    ),
    flag("bookable", True),
    count("totalSpots"),
    count("openSpots"),
    flag("locked", False),
    group("waitingList", count("totalSpots"), count("openSpots")),
    group("bookingPolicyViolations", *(flag(name, False) for name in _POLICY_FLAGS)),
    required=True,
)

ENTRIES = (
    Intent(
        "bookingsCheckout", "/flow/bookings-checkout",
        fields=(zone("timezone"), _SLOT_AVAILABILITY),
        checks=(_end_after_start,),
        flow_page=True, complete_label="Book", back_label="Back to services", back_link="bookingsServiceListUrl",
    ),
    Intent(
        "ecomCheckout", "/flow/ecom-checkout",
        fields=(guid("checkoutId", required=True, url=True),),
        flow_page=True, back_label="Back to cart", back_link="cartPageUrl",
    ),
    Intent(
        "eventsCheckout", "/flow/events-checkout",
        fields=(
            guid("reservationId", required=True, url=True),
            text("eventSlug", 150, required=True, pattern=_SLUG, pattern_hint="must be a URL slug such as my-event-4",
                 url=True),
        ),
        flow_page=True, back_link="postFlowUrl",
        outcome=(("orderNumber", "order_number"), ("eventId", "event_id")),
    ),
    Intent(
        "paidPlansCheckout", "/flow/plans-checkout",
        fields=(guid("planId", required=True, url=True), text("checkoutData", 1024)),
        flow_page=True, back_label="Change plan", back_link="planListUrl",
        outcome=(("planOrderId", "order_id"),),
    ),
    Intent("login", "/flow/login"),
    Intent("logout", "/flow/logout", fields=(guid("clientId", required=True, names_app=True),)),
    Intent(
        "auth", "/_api/oauth2/authorize",
        fields=(
            choice("prompt", ("login", "none"), url=True),
            group(
                "authRequest",
                guid("clientId", required=True, names_app=True, url="client_id"),
                choice("responseType", ("code",), required=True, blank_is_absent=True, url="response_type"),
                text("redirectUri", 2048, blank_is_absent=True, url="redirect_uri", app_redirect_uri=True),
                text("scope", 512, blank_is_absent=True, url=True),
                text("state", 1024, blank_is_absent=True, url=True),
                choice("responseMode", ("query", "fragment", "web_message"), default="query", url="response_mode"),
                # PKCE is required for the code flow (RFC 9700 §2.1.1: public clients MUST use it).
                text("codeChallenge", 128, required=True, required_hint="PKCE (RFC 7636) protects every code",
                     pattern=_PKCE_CHALLENGE,
                     pattern_hint="must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)",
                     url="code_challenge"),
                choice("codeChallengeMethod", ("S256", "S512"), required=True, required_hint="S256 or S512",
                       url="code_challenge_method"),
                text("sessionToken", 4096, blank_is_absent=True),
                text("nonce", 512, blank_is_absent=True, url=True),
                required=True,
            ),
        ),
        checks=(_redirect_uri_unless_web_message,),
        params_from="authRequest", prompt_from="prompt",
        refused_callbacks=(("postFlowUrl", "must not be set for the auth intent: use auth.authRequest.redirectUri"),),
        site_page=False,
    ),
    Intent(
        "storesProduct", "/flow/product",
        fields=(text("productSlug", 150, required=True, url=True),),
        flow_page=True, complete_label="Add to cart", back_label="Back to cart", back_link="cartPageUrl",
    ),
    Intent(
        "bookingsBook", "/flow/book",
        fields=(guid("resourceId", url=True),),
        flow_page=True, complete_label="Continue to checkout", back_label="Back to services",
        back_link="bookingsServiceListUrl",
    ),
    Intent(
        "ecomOrderPaymentRequest", "/flow/payment-request",
        fields=(guid("paymentRequestId", required=True, url=True),),
        flow_page=True, complete_label="Pay", back_link="cartPageUrl",
    ),
)
