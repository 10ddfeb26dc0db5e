"""The common shapes of a Create Redirect Session body, decoded and checked straight from its bytes.

:func:`parse_request` reads any body a client may send (snake_case, unknown fields, every
wrong type) and lists every violation; that generality costs several times the decoding. Nearly
every request is one of a few shapes, in lowerCamelCase, with known fields only: typed msgspec
structures decode those in one pass, and :func:`fast_request` checks them with the same rules.

It only ever accepts: whatever it is not sure of (an unknown or snake_case field, a wrong type, a
``bookingsCheckout``, any rule broken) makes it answer ``None``, and the caller runs the full
validator, which gives the answer (and every violation) the service always gave. A test holds the
two to the same result on every case of the rule table.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .fields import is_guid
from .intents import (
    _PKCE_CHALLENGE,
    _SLUG,
    CALLBACK_FIELDS,
    MAX_QUERY_PARAMETERS,
    Preferences,
    SessionRequest,
    reserved_parameters,
)

__all__ = ["fast_request"]


class _Shape(msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True):
    pass


class _Callbacks(_Shape):
    thank_you_page_url: str | None = None
    post_flow_url: str | None = None
    login_url: str | None = None
    bookings_service_list_url: str | None = None
    cart_page_url: str | None = None
    plan_list_url: str | None = None


class _Preferences(_Shape):
    use_generic_wix_pages: bool | None = None
    maintain_identity: bool | None = None
    additional_query_parameters: dict[str, str] | None = None
    check_if_publish: bool | None = None


class _Ecom(_Shape):
    checkout_id: str | None = None


class _Events(_Shape):
    reservation_id: str | None = None
    event_slug: str | None = None


class _Plans(_Shape):
    plan_id: str | None = None
    checkout_data: str | None = None


class _Empty(_Shape):
    pass


class _Logout(_Shape):
    client_id: str | None = None


class _AuthRequest(_Shape):
    client_id: str | None = None
    response_type: str | None = None
    redirect_uri: str | None = None
    scope: str | None = None
    state: str | None = None
    response_mode: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    session_token: str | None = None
    nonce: str | None = None


class _Auth(_Shape):
    auth_request: _AuthRequest | None = None
    prompt: str | None = None


class _Product(_Shape):
    product_slug: str | None = None


class _Book(_Shape):
    resource_id: str | None = None


class _Payment(_Shape):
    payment_request_id: str | None = None


class _Body(_Shape):
    ecom_checkout: _Ecom | None = None
    events_checkout: _Events | None = None
    paid_plans_checkout: _Plans | None = None
    login: _Empty | None = None
    logout: _Logout | None = None
    auth: _Auth | None = None
    stores_product: _Product | None = None
    bookings_book: _Book | None = None
    ecom_order_payment_request: _Payment | None = None
    callbacks: _Callbacks | None = None
    preferences: _Preferences | None = None
    origin: str | None = None


_decode = msgspec.json.Decoder(_Body).decode
# (wire name, attribute) of each intent the shapes cover.
_INTENTS = (
    ("ecomCheckout", "ecom_checkout"),
    ("eventsCheckout", "events_checkout"),
    ("paidPlansCheckout", "paid_plans_checkout"),
    ("login", "login"),
    ("logout", "logout"),
    ("auth", "auth"),
    ("storesProduct", "stores_product"),
    ("bookingsBook", "bookings_book"),
    ("ecomOrderPaymentRequest", "ecom_order_payment_request"),
)
_CALLBACK_ATTRIBUTES = tuple(
    (name, "".join("_" + c.lower() if c.isupper() else c for c in name)) for name in CALLBACK_FIELDS
)
_RESERVED = {name: reserved_parameters(name) for name, _ in _INTENTS}
_DEFAULT_PREFERENCES = Preferences()


class _Declined(Exception):
    """Not a shape this module is sure of: the full validator decides."""


def fast_request(raw: bytes) -> SessionRequest | None:
    """The request, when ``raw`` is a common shape that breaks no rule the body alone can
    tell; ``None`` otherwise (then :func:`parse_request` gives the answer)."""
    try:
        body = _decode(raw)
        return _request(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, _Declined):
        return None


def _request(body: _Body) -> SessionRequest:
    found = None
    for name, attribute in _INTENTS:
        value = getattr(body, attribute)
        if value is not None:
            if found is not None:
                raise _Declined
            found = (name, value)
    if found is None:
        raise _Declined
    intent, value = found
    callbacks = _callbacks(body.callbacks)
    preferences = _preferences(body.preferences, intent)
    origin = body.origin
    if origin is not None and len(origin) > 2048:
        raise _Declined
    prompt = None
    if intent == "ecomCheckout":
        params: dict[str, Any] = {"checkoutId": _guid(value.checkout_id)}
    elif intent == "eventsCheckout":
        slug = value.event_slug
        if not slug or len(slug) > 150 or not _SLUG.match(slug):
            raise _Declined
        params = {"reservationId": _guid(value.reservation_id), "eventSlug": slug}
    elif intent == "paidPlansCheckout":
        params = {"planId": _guid(value.plan_id)}
        if value.checkout_data is not None:
            if len(value.checkout_data) > 1024:
                raise _Declined
            params["checkoutData"] = value.checkout_data
    elif intent == "login":
        params = {}
    elif intent == "logout":
        params = {"clientId": _guid(value.client_id)}
    elif intent == "storesProduct":
        slug = value.product_slug
        if not slug or len(slug) > 150:
            raise _Declined
        params = {"productSlug": slug}
    elif intent == "bookingsBook":
        params = {} if not value.resource_id else {"resourceId": _guid(value.resource_id)}
    elif intent == "ecomOrderPaymentRequest":
        params = {"paymentRequestId": _guid(value.payment_request_id)}
    else:
        params, prompt = _auth(value)
        if "postFlowUrl" in callbacks:
            raise _Declined
    return SessionRequest(intent, params, callbacks, preferences, origin, prompt)


def _guid(value: str | None) -> str:
    if not value or len(value) > 36 or not is_guid(value):
        raise _Declined
    return value.lower()


def _text(value: str | None, max_length: int) -> str | None:
    """An optional string where the empty string means absent (``or None`` in ``intents``)."""
    if value is not None and len(value) > max_length:
        raise _Declined
    return value or None


def _callbacks(raw: _Callbacks | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if raw is None:
        return out
    for name, attribute in _CALLBACK_ATTRIBUTES:
        value = getattr(raw, attribute)
        if value is not None:
            if len(value) > 2048:
                raise _Declined
            if value:
                out[name] = value
    return out


def _preferences(raw: _Preferences | None, intent: str) -> Preferences:
    if raw is None:
        return _DEFAULT_PREFERENCES
    extra = raw.additional_query_parameters
    if extra is None:
        extra = {}
    else:
        if len(extra) > MAX_QUERY_PARAMETERS:
            raise _Declined
        reserved = _RESERVED[intent]
        for key in extra:
            if not key or len(key) > 256 or not key.isprintable() or key in reserved:
                raise _Declined
    return Preferences(
        use_generic_wix_pages=True if raw.use_generic_wix_pages is None else raw.use_generic_wix_pages,
        maintain_identity=True if raw.maintain_identity is None else raw.maintain_identity,
        additional_query_parameters=extra,
        check_if_publish=False if raw.check_if_publish is None else raw.check_if_publish,
    )


def _auth(raw: _Auth) -> tuple[dict[str, Any], str | None]:
    prompt = raw.prompt
    if prompt is not None and prompt not in ("login", "none"):
        raise _Declined
    req = raw.auth_request
    if req is None:
        raise _Declined
    mode = req.response_mode
    if mode is not None and mode not in ("query", "fragment", "web_message"):
        raise _Declined
    redirect_uri = _text(req.redirect_uri, 2048)
    if redirect_uri is None and mode != "web_message":
        raise _Declined
    challenge = req.code_challenge
    if not challenge or not _PKCE_CHALLENGE.match(challenge):  # 43 to 128 characters
        raise _Declined
    method = req.code_challenge_method
    if method not in ("S256", "S512") or req.response_type != "code":
        raise _Declined
    params: dict[str, Any] = {"clientId": _guid(req.client_id), "responseType": "code"}
    if redirect_uri is not None:
        params["redirectUri"] = redirect_uri
    for key, value in (("scope", _text(req.scope, 512)), ("state", _text(req.state, 1024))):
        if value is not None:
            params[key] = value
    params["responseMode"] = mode or "query"
    params["codeChallenge"] = challenge
    params["codeChallengeMethod"] = method
    for key, value in (("sessionToken", _text(req.session_token, 4096)), ("nonce", _text(req.nonce, 512))):
        if value is not None:
            params[key] = value
    return params, prompt
