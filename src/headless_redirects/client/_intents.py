"""The typed parameters of ``create_redirect_session``, one TypedDict per intent (snake_case keys).

Generated from the server's intent catalogue by ``python -m headless_redirects.domain.catalogue.sdk_types``:
do not edit by hand (a test compares this file with the catalogue)."""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict

__all__ = ["INTENT_KEYWORDS", "PARAMETER_KEYWORDS", "CreateRedirectSessionParams"]

INTENT_KEYWORDS = (
    "bookings_checkout",
    "ecom_checkout",
    "events_checkout",
    "paid_plans_checkout",
    "login",
    "logout",
    "auth",
    "stores_product",
    "bookings_book",
    "ecom_order_payment_request",
)
PARAMETER_KEYWORDS = frozenset((*INTENT_KEYWORDS, "callbacks", "preferences", "origin"))


class BookingsCheckoutSlotAvailabilitySlotResource(TypedDict, total=False):
    id: str
    name: str


class BookingsCheckoutSlotAvailabilitySlotLocation(TypedDict, total=False):
    id: str
    name: str
    formatted_address: str
    formatted_address_translated: str
    location_type: Literal["UNDEFINED", "OWNER_BUSINESS", "OWNER_CUSTOM", "CUSTOM"]


class BookingsCheckoutSlotAvailabilitySlot(TypedDict, total=False):
    service_id: Required[str]
    schedule_id: str
    start_date: Required[str]
    end_date: Required[str]
    timezone: str
    event_id: str
    resource: BookingsCheckoutSlotAvailabilitySlotResource
    location: BookingsCheckoutSlotAvailabilitySlotLocation


class BookingsCheckoutSlotAvailabilityWaitingList(TypedDict, total=False):
    total_spots: int
    open_spots: int


class BookingsCheckoutSlotAvailabilityBookingPolicyViolations(TypedDict, total=False):
    too_early_to_book: bool
    too_late_to_book: bool
    book_online_disabled: bool
    valid_submission_required: bool


class BookingsCheckoutSlotAvailability(TypedDict, total=False):
    slot: Required[BookingsCheckoutSlotAvailabilitySlot]
    bookable: bool
    total_spots: int
    open_spots: int
    locked: bool
    waiting_list: BookingsCheckoutSlotAvailabilityWaitingList
    booking_policy_violations: BookingsCheckoutSlotAvailabilityBookingPolicyViolations


class BookingsCheckout(TypedDict, total=False):
    timezone: str
    slot_availability: Required[BookingsCheckoutSlotAvailability]


class EcomCheckout(TypedDict, total=False):
    checkout_id: Required[str]


class EventsCheckout(TypedDict, total=False):
    reservation_id: Required[str]
    event_slug: Required[str]


class PaidPlansCheckout(TypedDict, total=False):
    plan_id: Required[str]
    checkout_data: str


class Login(TypedDict, total=False):
    pass


class Logout(TypedDict, total=False):
    client_id: Required[str]


class AuthAuthRequest(TypedDict, total=False):
    client_id: Required[str]
    response_type: Required[Literal["code"]]
    redirect_uri: str
    scope: str
    state: str
    response_mode: Literal["query", "fragment", "web_message"]
    code_challenge: Required[str]
    code_challenge_method: Required[Literal["S256", "S512"]]
    session_token: str
    nonce: str


class Auth(TypedDict, total=False):
    prompt: Literal["login", "none"]
    auth_request: Required[AuthAuthRequest]


class StoresProduct(TypedDict, total=False):
    product_slug: Required[str]


class BookingsBook(TypedDict, total=False):
    resource_id: str


class EcomOrderPaymentRequest(TypedDict, total=False):
    payment_request_id: Required[str]


class Callbacks(TypedDict, total=False):
    thank_you_page_url: str
    post_flow_url: str
    login_url: str
    bookings_service_list_url: str
    cart_page_url: str
    plan_list_url: str


class CreateRedirectSessionParams(TypedDict, total=False):
    """The keyword arguments of ``create_redirect_session``: exactly one intent, and the common fields."""
    bookings_checkout: BookingsCheckout | None
    ecom_checkout: EcomCheckout | None
    events_checkout: EventsCheckout | None
    paid_plans_checkout: PaidPlansCheckout | None
    login: Login | None
    logout: Logout | None
    auth: Auth | None
    stores_product: StoresProduct | None
    bookings_book: BookingsBook | None
    ecom_order_payment_request: EcomOrderPaymentRequest | None
    callbacks: Callbacks | dict[str, str] | None
    preferences: dict[str, Any] | None
    origin: str | None
