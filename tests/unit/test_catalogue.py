"""The intent catalogue is the one declaration of an intent: every table the service used to keep
by hand is derived from it, and an intent added to a catalogue is picked up by the validator,
the session URL, the outcome and the OpenAPI schema. No database: the domain is pure."""

from __future__ import annotations

from headless_redirects.client import _intents as sdk_intents
from headless_redirects.domain import intents, outcomes
from headless_redirects.domain.catalogue import CALLBACK_FIELDS, CATALOGUE, FLOW_INTENTS, Catalogue, Intent
from headless_redirects.domain.catalogue.entry import guid, text
from headless_redirects.domain.catalogue.sdk_types import SDK_TYPES_PATH, render
from headless_redirects.domain.intent_shapes import fast_request
from headless_redirects.domain.outcomes import PlacedOrder
from headless_redirects.web.openapi import document
from headless_redirects.web.openapi_intents import intent_schemas

GUID = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"
ORDER = PlacedOrder("order-1", "10001", "event-1")
TOY = Intent(
    "giftCardCheckout", "/flow/gift-card",
    fields=(guid("giftCardId", required=True, url=True), text("message", 200)),
    flow_page=True, complete_label="Buy gift card", back_label="Back to gift cards", back_link="cartPageUrl",
    outcome=(("giftCardOrderId", "order_id"),),
)


def test_the_public_tables_are_the_catalogues() -> None:
    assert intents.INTENTS == tuple(entry.name for entry in CATALOGUE) == CATALOGUE.names
    assert intents.INTENT_PATHS == {entry.name: entry.path for entry in CATALOGUE}
    assert intents.CALLBACK_FIELDS is CALLBACK_FIELDS
    assert intents.AUTH_INTENT in CATALOGUE
    assert FLOW_INTENTS == tuple(entry.name for entry in CATALOGUE if entry.flow_page)


def test_the_ten_intents_of_the_spec() -> None:
    assert set(CATALOGUE.names) == {
        "bookingsCheckout", "ecomCheckout", "eventsCheckout", "paidPlansCheckout", "login", "logout", "auth",
        "storesProduct", "bookingsBook", "ecomOrderPaymentRequest"}
    assert set(FLOW_INTENTS) == {"ecomCheckout", "bookingsCheckout", "eventsCheckout", "paidPlansCheckout",
                                 "ecomOrderPaymentRequest", "storesProduct", "bookingsBook"}
    assert len({entry.path for entry in CATALOGUE}) == len(CATALOGUE)


def test_reserved_parameters_are_the_url_fields() -> None:
    for entry in CATALOGUE:
        expected = {"redirectSessionId", *(url for _, url in entry.url_fields)}
        if entry.prompt_url_name is not None:
            expected.add(entry.prompt_url_name)
        assert intents.reserved_parameters(entry.name) == expected
    assert intents.reserved_parameters("ecomCheckout") == {"redirectSessionId", "checkoutId"}
    assert {"client_id", "code_challenge", "prompt"} <= intents.reserved_parameters("auth")
    assert "session_token" not in intents.reserved_parameters("auth")


def test_outcomes_and_back_links_are_the_catalogues() -> None:
    for entry in CATALOGUE:
        expected = {name: getattr(ORDER, attribute) for name, attribute in entry.outcome}
        assert outcomes.completion_parameters(entry.name, ORDER) == expected
        callbacks = {name: f"https://shop.example.com/{name}" for name in CALLBACK_FIELDS}
        target = outcomes.back_target(entry.name, callbacks, {}, False)
        if entry.back_link is None:
            assert target is None
        else:
            assert target == f"https://shop.example.com/{entry.back_link}?wixMemberLoggedIn=false"


def test_the_openapi_intent_schemas_are_generated_from_the_catalogue() -> None:
    schemas = document()["components"]["schemas"]
    for name, schema in intent_schemas().items():
        assert schemas[name] == schema
    request = schemas["CreateRedirectSessionRequest"]["properties"]
    assert {name for name in CATALOGUE.names} <= set(request)
    ecom = schemas["Intent_ecomCheckout"]
    assert ecom == {"type": "object", "properties": {"checkoutId": {"type": "string", "format": "uuid"}},
                    "required": ["checkoutId"]}
    slug = schemas["Intent_eventsCheckout"]["properties"]["eventSlug"]
    assert slug == {"type": "string", "maxLength": 150, "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$"}


def test_the_sdk_types_are_generated_from_the_catalogue() -> None:
    # After changing the catalogue: python -m headless_redirects.domain.catalogue.sdk_types
    assert SDK_TYPES_PATH.read_text() == render()
    assert sdk_intents.INTENT_KEYWORDS == tuple(entry.attribute for entry in CATALOGUE)
    assert "ecom_order_payment_request" in sdk_intents.PARAMETER_KEYWORDS


def test_adding_an_intent_is_one_entry() -> None:
    catalogue = CATALOGUE.with_entry(TOY)
    assert isinstance(catalogue, Catalogue) and "giftCardCheckout" not in CATALOGUE  # the global is untouched
    assert catalogue.flow_intents[-1] == "giftCardCheckout"

    # The validator: its rules, its one-of, its reserved parameters.
    request, violations = intents.parse_request({"giftCardCheckout": {"giftCardId": GUID.upper()}}, catalogue)
    assert violations == [] and request is not None
    assert request.params == {"giftCardId": GUID}
    _, violations = intents.parse_request({"giftCardCheckout": {"message": "x" * 201}}, catalogue)
    assert {(v.field, v.violated_rule) for v in violations} == {
        ("giftCardCheckout.giftCardId", "REQUIRED_FIELD"), ("giftCardCheckout.message", "MAX_LENGTH")}
    _, violations = intents.parse_request({}, catalogue)
    assert "giftCardCheckout" in violations[0].data["oneOf"]
    assert intents.reserved_parameters("giftCardCheckout", catalogue) == {"redirectSessionId", "giftCardId"}
    _, violations = intents.parse_request({"giftCardCheckout": {"giftCardId": GUID}}, CATALOGUE)
    assert violations[0].violated_rule == "REQUIRED_ONE_OF_FIELD"  # unknown to the service's catalogue

    # The session URL.
    endpoint, params = intents.destination(request, "s1", "https://site.example.com/", {}, "de", catalogue)
    assert endpoint == "https://site.example.com/flow/gift-card"
    assert params == {"giftCardId": GUID, "redirectSessionId": "s1", "lang": "de"}

    # The outcome and the back link.
    assert outcomes.completion_parameters("giftCardCheckout", ORDER, catalogue) == {"giftCardOrderId": "order-1"}
    back = outcomes.back_target("giftCardCheckout", {"cartPageUrl": "https://shop.example.com/cart"}, {}, True,
                                catalogue)
    assert back == "https://shop.example.com/cart?wixMemberLoggedIn=true"
    entry = catalogue["giftCardCheckout"]
    assert (entry.path, entry.complete_label, entry.back_label) == (
        "/flow/gift-card", "Buy gift card", "Back to gift cards")

    # The OpenAPI schema and the SDK's types.
    schema = intent_schemas(catalogue)["Intent_giftCardCheckout"]
    assert schema == {"type": "object", "required": ["giftCardId"], "properties": {
        "giftCardId": {"type": "string", "format": "uuid"}, "message": {"type": "string", "maxLength": 200}}}
    source = render(catalogue)
    assert "class GiftCardCheckout(TypedDict, total=False):" in source
    assert "gift_card_id: Required[str]" in source and '"gift_card_checkout",' in source


def test_the_fast_path_reads_by_the_same_declarations() -> None:
    # A rule declared once refuses on both paths (here: the slug pattern and the PKCE challenge length).
    bad_slug = b'{"eventsCheckout": {"reservationId": "%s", "eventSlug": "-nope"}}' % GUID.encode()
    assert fast_request(bad_slug) is None
    _, violations = intents.parse_request({"eventsCheckout": {"reservationId": GUID, "eventSlug": "-nope"}})
    assert [(v.field, v.violated_rule) for v in violations] == [("eventsCheckout.eventSlug", "FORMAT")]
    good = b'{"eventsCheckout": {"reservationId": "%s", "eventSlug": "my-event-4"}}' % GUID.encode()
    fast = fast_request(good)
    assert fast is not None and fast == intents.parse_request(
        {"eventsCheckout": {"reservationId": GUID, "eventSlug": "my-event-4"}})[0]
