"""Every rule of the SPEC §3 intent table and every common field: an accepted request and a
refused one, the refusal checked for status, field and violatedRule."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import GUID, World

G2 = "5d4b1b4a-7f3c-4b8e-9a41-2f6a0c9e1d22"
SLOT = {
    "serviceId": GUID,
    "scheduleId": G2,
    "startDate": "2026-03-29T01:30:00+01:00",
    "endDate": "2026-03-29T03:30:00+02:00",
    "timezone": "Europe/Berlin",
    "resource": {"id": G2, "name": "Dana"},
    "location": {"name": "Studio", "locationType": "OWNER_BUSINESS"},
}
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
AUTH = {
    "authRequest": {
        "clientId": "<client>",
        "responseType": "code",
        "redirectUri": "https://shop.example.com/callback",
        "scope": "offline_access",
        "state": "st",
        "responseMode": "query",
        "codeChallenge": CHALLENGE,
        "codeChallengeMethod": "S256",
    },
    "prompt": "login",
}
VALID = {
    "bookingsCheckout": {"slotAvailability": {"slot": SLOT, "bookable": True, "openSpots": 3}},
    "ecomCheckout": {"checkoutId": GUID},
    "eventsCheckout": {"reservationId": GUID, "eventSlug": "my-event-4"},
    "paidPlansCheckout": {"planId": GUID, "checkoutData": "opaque-123"},
    "login": {},
    "logout": {"clientId": "<client>"},
    "auth": AUTH,
    "storesProduct": {"productSlug": "blue-shirt"},
    "bookingsBook": {"resourceId": GUID},
    "ecomOrderPaymentRequest": {"paymentRequestId": GUID},
}


def body_for(intent: str, world: World) -> dict[str, Any]:
    params = copy.deepcopy(VALID[intent])
    if intent == "logout":
        params["clientId"] = world.tenant.client_id
    if intent == "auth":
        params["authRequest"]["clientId"] = world.tenant.client_id
    return {intent: params}


def set_path(body: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    target = body
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    if value is DELETE:
        target.pop(keys[-1], None)
    else:
        target[keys[-1]] = value


DELETE = object()

# (intent, path to change, accepted value, refused value, violatedRule); the field reported
# is the path itself.
CASES: list[tuple[str, str, Any, Any, str]] = [
    ("bookingsCheckout", "bookingsCheckout.slotAvailability", VALID["bookingsCheckout"]["slotAvailability"], DELETE, "REQUIRED_FIELD"),
    ("bookingsCheckout", "bookingsCheckout.timezone", "America/Santiago", "Mars/Olympus", "FORMAT"),
    ("bookingsCheckout", "bookingsCheckout.timezone", "Europe/Berlin", "A" * 41, "MAX_LENGTH"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.slot.startDate", "2026-03-29T01:30:00Z", "2026-03-29", "FORMAT"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.slot.endDate", "2026-03-29T04:00:00+02:00", "2026-03-29T01:00:00+01:00", "VALIDATION"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.slot.serviceId", G2, "not-a-guid", "FORMAT"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.slot.serviceId", G2, DELETE, "REQUIRED_FIELD"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.slot.timezone", "Asia/Tokyo", "Nowhere/Land", "FORMAT"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.slot.location.locationType", "CUSTOM", "MOON", "INVALID_ENUM_VALUE"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.openSpots", 0, "many", "FORMAT"),
    ("bookingsCheckout", "bookingsCheckout.slotAvailability.bookable", False, "yes", "FORMAT"),
    ("ecomCheckout", "ecomCheckout.checkoutId", G2, DELETE, "REQUIRED_FIELD"),
    ("ecomCheckout", "ecomCheckout.checkoutId", G2.upper(), "12345", "FORMAT"),
    ("ecomCheckout", "ecomCheckout.checkoutId", G2, 42, "FORMAT"),
    ("eventsCheckout", "eventsCheckout.reservationId", G2, DELETE, "REQUIRED_FIELD"),
    ("eventsCheckout", "eventsCheckout.reservationId", G2, "res-1", "FORMAT"),
    ("eventsCheckout", "eventsCheckout.eventSlug", "summer-party", DELETE, "REQUIRED_FIELD"),
    ("eventsCheckout", "eventsCheckout.eventSlug", "summer-party", "summer party!", "FORMAT"),
    ("paidPlansCheckout", "paidPlansCheckout.planId", G2, DELETE, "REQUIRED_FIELD"),
    ("paidPlansCheckout", "paidPlansCheckout.planId", G2, "gold", "FORMAT"),
    ("paidPlansCheckout", "paidPlansCheckout.checkoutData", "x" * 1024, "x" * 1025, "MAX_LENGTH"),
    ("login", "login", {}, "yes", "FORMAT"),
    ("logout", "logout.clientId", "<client>", DELETE, "REQUIRED_FIELD"),
    ("logout", "logout.clientId", "<client>", G2, "VALIDATION"),
    ("logout", "logout.clientId", "<client>", "app", "FORMAT"),
    ("auth", "auth.authRequest", AUTH["authRequest"], DELETE, "REQUIRED_FIELD"),
    ("auth", "auth.authRequest.clientId", "<client>", DELETE, "REQUIRED_FIELD"),
    ("auth", "auth.authRequest.clientId", "<client>", G2, "VALIDATION"),
    ("auth", "auth.authRequest.responseType", "code", "token", "INVALID_ENUM_VALUE"),
    ("auth", "auth.authRequest.responseType", "code", DELETE, "REQUIRED_FIELD"),
    ("auth", "auth.authRequest.redirectUri", "http://localhost:3000/callback", DELETE, "REQUIRED_FIELD"),
    ("auth", "auth.authRequest.redirectUri", "https://shop.example.com/callback", "https://shop.example.com/callback/other", "VALIDATION"),
    ("auth", "auth.authRequest.responseMode", "fragment", "form_post", "INVALID_ENUM_VALUE"),
    ("auth", "auth.authRequest.codeChallengeMethod", "S512", "plain", "INVALID_ENUM_VALUE"),
    ("auth", "auth.authRequest.codeChallengeMethod", "S256", DELETE, "REQUIRED_FIELD"),
    ("auth", "auth.authRequest.codeChallenge", CHALLENGE, "short", "FORMAT"),
    ("auth", "auth.authRequest.nonce", "n" * 512, "n" * 513, "MAX_LENGTH"),
    ("auth", "auth.authRequest.scope", "offline_access", 7, "FORMAT"),
    ("auth", "auth.prompt", "none", "consent", "INVALID_ENUM_VALUE"),
    ("storesProduct", "storesProduct.productSlug", "p" * 150, DELETE, "REQUIRED_FIELD"),
    ("storesProduct", "storesProduct.productSlug", "p" * 150, "p" * 151, "MAX_LENGTH"),
    ("bookingsBook", "bookingsBook.resourceId", G2, "staff-1", "FORMAT"),
    ("ecomOrderPaymentRequest", "ecomOrderPaymentRequest.paymentRequestId", G2, DELETE, "REQUIRED_FIELD"),
    ("ecomOrderPaymentRequest", "ecomOrderPaymentRequest.paymentRequestId", G2, "pay-1", "FORMAT"),
    # common fields
    ("ecomCheckout", "origin", "https://shop.example.com", "o" * 2049, "MAX_LENGTH"),
    ("ecomCheckout", "origin", "https://shop.example.com", 5, "FORMAT"),
    ("ecomCheckout", "preferences.useGenericWixPages", False, "false", "FORMAT"),
    ("ecomCheckout", "preferences.maintainIdentity", False, 0, "FORMAT"),
    ("ecomCheckout", "preferences.checkIfPublish", True, "1", "FORMAT"),
    ("ecomCheckout", "preferences.additionalQueryParameters", {"utm_source": "x"}, ["utm_source"], "FORMAT"),
    ("ecomCheckout", "preferences.additionalQueryParameters", {f"k{i}": "v" for i in range(50)},
     {f"k{i}": "v" for i in range(51)}, "MAX_SIZE"),
    ("ecomCheckout", "preferences.additionalQueryParameters.utm_source", "mail", 3, "FORMAT"),
    ("ecomCheckout", "preferences.additionalQueryParameters.redirectSessionId", DELETE, "forged", "FIELD_NOT_ALLOWED"),
    ("ecomCheckout", "preferences.additionalQueryParameters.checkoutId", DELETE, G2, "FIELD_NOT_ALLOWED"),
    ("auth", "preferences.additionalQueryParameters.redirect_uri", DELETE, "https://evil.example/", "FIELD_NOT_ALLOWED"),
    ("auth", "preferences.additionalQueryParameters.state", DELETE, "x", "FIELD_NOT_ALLOWED"),
    ("ecomCheckout", "preferences.additionalQueryParameters.lang", "fr", 1, "FORMAT"),
    ("auth", "callbacks.postFlowUrl", DELETE, "https://shop.example.com/after", "FIELD_NOT_ALLOWED"),
    ("ecomCheckout", "callbacks", {"postFlowUrl": "https://shop.example.com/"}, "https://shop.example.com/", "FORMAT"),
]
CALLBACKS = ["thankYouPageUrl", "postFlowUrl", "loginUrl", "bookingsServiceListUrl", "cartPageUrl", "planListUrl"]
for name in CALLBACKS:
    CASES += [
        ("ecomCheckout", f"callbacks.{name}", "https://shop.example.com/x?a=1#f", "https://evil.example.com/x", "VALIDATION"),
        ("ecomCheckout", f"callbacks.{name}", "http://localhost:3000/x", "http://shop.example.com/x", "FORMAT"),
        ("ecomCheckout", f"callbacks.{name}", "https://shop.example.com/" + "a" * 2000, "https://shop.example.com/" + "a" * 2030, "MAX_LENGTH"),
        ("ecomCheckout", f"callbacks.{name}", "https://shop.example.com/", 12, "FORMAT"),
    ]


def _fill(value: Any, world: World) -> Any:
    if value is DELETE:
        return DELETE
    value = copy.deepcopy(value)
    if value == "<client>":
        return world.tenant.client_id
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("intent", "path", "good", "bad", "rule"), CASES,
                         ids=[f"{c[1]}-{c[4]}" for c in CASES])
def test_rule(world: World, intent: str, path: str, good: Any, bad: Any, rule: str) -> None:
    token = world.visitor()["access_token"]
    accepted = body_for(intent, world)
    set_path(accepted, path, _fill(good, world))
    r = world.create(accepted, token)
    assert r.status_code == 200, r.text

    refused = body_for(intent, world)
    set_path(refused, path, _fill(bad, world))
    r = world.create(refused, token)
    assert r.status_code == 400, r.text
    violations = r.json()["details"]["validationError"]["fieldViolations"]
    assert {"field": path, "rule": rule} in [
        {"field": v["field"], "rule": v["violatedRule"]} for v in violations
    ], violations


@pytest.mark.parametrize("intent", list(VALID))
def test_every_intent_is_accepted_on_every_route(world: World, intent: str) -> None:
    token = world.visitor()["access_token"]
    for route in ("/_api/redirects-api/v1/redirect-session", "/redirect-session/v1/redirect-session",
                  "/headless/v1/redirect-session"):
        r = world.client.post(route, json=body_for(intent, world), headers={"Authorization": token})
        assert r.status_code == 200, (route, r.text)
        session = r.json()["redirectSession"]
        assert session["urlDetails"]["searchParams"]["redirectSessionId"] == session["id"]


def test_no_intent(world: World) -> None:
    r = world.create({"callbacks": {"postFlowUrl": "https://shop.example.com/"}})
    assert r.status_code == 400
    (v,) = r.json()["details"]["validationError"]["fieldViolations"]
    assert (v["field"], v["violatedRule"]) == ("intent", "REQUIRED_ONE_OF_FIELD")


def test_two_intents(world: World) -> None:
    r = world.create({"login": {}, "ecomCheckout": {"checkoutId": GUID}})
    assert r.status_code == 400
    fields = {(v["field"], v["violatedRule"]) for v in r.json()["details"]["validationError"]["fieldViolations"]}
    assert fields == {("login", "ONE_OF_ALIGNMENT"), ("ecomCheckout", "ONE_OF_ALIGNMENT")}


def test_null_intent_counts_as_absent(world: World) -> None:
    r = world.create({"login": {}, "ecomCheckout": None})
    assert r.status_code == 200, r.text


def test_all_violations_are_listed_at_once(world: World) -> None:
    r = world.create({
        "eventsCheckout": {"reservationId": "x"},
        "callbacks": {"postFlowUrl": "https://evil.example.com/", "cartPageUrl": "ftp://shop.example.com/"},
        "preferences": {"maintainIdentity": "no"},
    })
    assert r.status_code == 400
    fields = {v["field"] for v in r.json()["details"]["validationError"]["fieldViolations"]}
    assert fields == {
        "eventsCheckout.reservationId",
        "eventsCheckout.eventSlug",
        "callbacks.postFlowUrl",
        "callbacks.cartPageUrl",
        "preferences.maintainIdentity",
    }


def test_snake_case_fields_are_accepted(world: World) -> None:
    r = world.create({
        "ecom_checkout": {"checkout_id": GUID},
        "callbacks": {"post_flow_url": "https://shop.example.com/done", "thank_you_page_url": "https://shop.example.com/ty"},
        "preferences": {"additional_query_parameters": {"utm_source": "news"}},
    })
    assert r.status_code == 200, r.text
    params = r.json()["redirectSession"]["urlDetails"]["searchParams"]
    assert params["checkoutId"] == GUID and params["utm_source"] == "news"
    r = world.create({"ecom_checkout": {"checkout_id": "nope"}})
    assert r.json()["details"]["validationError"]["fieldViolations"][0]["field"] == "ecomCheckout.checkoutId"


def test_unknown_fields_are_ignored(world: World) -> None:
    r = world.create({"ecomCheckout": {"checkoutId": GUID, "future": 1}, "somethingNew": {"a": [1]}})
    assert r.status_code == 200, r.text


def test_web_message_needs_no_redirect_uri(world: World) -> None:
    body = body_for("auth", world)
    del body["auth"]["authRequest"]["redirectUri"]
    body["auth"]["authRequest"]["responseMode"] = "web_message"
    body["auth"]["prompt"] = "none"
    r = world.create(body)
    assert r.status_code == 200, r.text
    session = r.json()["redirectSession"]
    assert session["urlDetails"]["endpoint"] == "http://127.0.0.1:8080/_api/oauth2/authorize"
    assert "redirect_uri" not in session["urlDetails"]["searchParams"]


def test_auth_url_carries_the_authorize_parameters(world: World) -> None:
    r = world.create(body_for("auth", world))
    details = r.json()["redirectSession"]["urlDetails"]
    assert details["endpoint"] == "http://127.0.0.1:8080/_api/oauth2/authorize"
    p = details["searchParams"]
    assert p["client_id"] == world.tenant.client_id
    assert (p["response_type"], p["response_mode"], p["prompt"]) == ("code", "query", "login")
    assert (p["code_challenge"], p["code_challenge_method"]) == (CHALLENGE, "S256")
    assert (p["redirect_uri"], p["state"], p["scope"]) == ("https://shop.example.com/callback", "st", "offline_access")


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400),
    (b"[1, 2]", 400),
    (b'"a string"', 400),
    (b"", 400),
    (b'{"ecomCheckout": {"checkoutId": "\xff"}}', 400),
    (b"[" * 5000 + b"]" * 5000, 400),
    (b'{"a":' * 200 + b"1" + b"}" * 200, 400),
])
def test_bad_bodies_get_a_400_with_the_documented_shape(world: World, body: bytes, status: int) -> None:
    token = world.visitor()["access_token"]
    r = world.client.post("/_api/redirects-api/v1/redirect-session", content=body,
                          headers={"Authorization": token, "content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["details"]["validationError"]["fieldViolations"]
    assert r.headers["x-wix-request-id"]


def test_body_over_64_kib_is_413(world: World) -> None:
    token = world.visitor()["access_token"]
    body = b'{"login": {}, "pad": "' + b"x" * (64 * 1024) + b'"}'
    r = world.client.post("/_api/redirects-api/v1/redirect-session", content=body,
                          headers={"Authorization": token, "content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["details"]["applicationError"]["code"] == "PAYLOAD_TOO_LARGE"


def test_refused_requests_store_nothing(world: World) -> None:
    before = len(world.services.store.sessions.newest(None, 1000))
    world.create({"ecomCheckout": {"checkoutId": "bad"}})
    world.create({"login": {}, "callbacks": {"postFlowUrl": "https://evil.example.com/"}})
    assert len(world.services.store.sessions.newest(None, 1000)) == before


def test_full_url_over_2048_characters_is_refused(world: World) -> None:
    ok = world.create({"ecomCheckout": {"checkoutId": GUID},
                       "preferences": {"additionalQueryParameters": {"big": "v" * 1700}}})
    assert ok.status_code == 200 and len(ok.json()["redirectSession"]["fullUrl"]) <= 2048
    r = world.create({"ecomCheckout": {"checkoutId": GUID},
                      "preferences": {"additionalQueryParameters": {"big": "v" * 1900, "more": "w" * 100}}})
    assert r.status_code == 400
    (v,) = r.json()["details"]["validationError"]["fieldViolations"]
    assert (v["field"], v["violatedRule"]) == ("preferences.additionalQueryParameters", "MAX_LENGTH")
