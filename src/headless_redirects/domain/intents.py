"""The Create Redirect Session request: its intents, their rules, and where each one leads.

Validation runs in two passes whose violations are reported together: :func:`parse_request`
checks everything the body alone can tell; :func:`check_against_apps` checks what needs the
site's OAuth apps (callback domains, redirect URIs, client ids).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .bookings import parse_bookings_checkout
from .callbacks import check_callback_url
from .errors import FieldViolation, Rule
from .fields import Reader, TooDeep, camelize

__all__ = [
    "AUTH_INTENT",
    "CALLBACK_FIELDS",
    "INTENTS",
    "INTENT_PATHS",
    "AppRules",
    "Preferences",
    "SessionRequest",
    "check_against_apps",
    "destination",
    "parse_request",
    "reserved_parameters",
]

AUTH_INTENT = "auth"
INTENTS = (
    "bookingsCheckout",
    "ecomCheckout",
    "eventsCheckout",
    "paidPlansCheckout",
    "login",
    "logout",
    "auth",
    "storesProduct",
    "bookingsBook",
    "ecomOrderPaymentRequest",
)
# Hosted-page path of each intent on the site's base URL (documented in the README).
INTENT_PATHS = {
    "bookingsCheckout": "/flow/bookings-checkout",
    "ecomCheckout": "/flow/ecom-checkout",
    "eventsCheckout": "/flow/events-checkout",
    "paidPlansCheckout": "/flow/plans-checkout",
    "login": "/flow/login",
    "logout": "/flow/logout",
    "auth": "/_api/oauth2/authorize",
    "storesProduct": "/flow/product",
    "bookingsBook": "/flow/book",
    "ecomOrderPaymentRequest": "/flow/payment-request",
}
CALLBACK_FIELDS = (
    "thankYouPageUrl",
    "postFlowUrl",
    "loginUrl",
    "bookingsServiceListUrl",
    "cartPageUrl",
    "planListUrl",
)
SESSION_ID_PARAM = "redirectSessionId"
# Intent fields copied into the URL because the destination page renders from them.
_URL_FIELDS = {
    "ecomCheckout": ("checkoutId",),
    "eventsCheckout": ("reservationId", "eventSlug"),
    "paidPlansCheckout": ("planId",),
    "storesProduct": ("productSlug",),
    "bookingsBook": ("resourceId",),
    "ecomOrderPaymentRequest": ("paymentRequestId",),
}
_AUTH_URL_FIELDS = (
    ("clientId", "client_id"),
    ("responseType", "response_type"),
    ("redirectUri", "redirect_uri"),
    ("scope", "scope"),
    ("state", "state"),
    ("responseMode", "response_mode"),
    ("codeChallenge", "code_challenge"),
    ("codeChallengeMethod", "code_challenge_method"),
    ("nonce", "nonce"),
)
_MAPS = frozenset({"additionalQueryParameters"})
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
MAX_QUERY_PARAMETERS = 50


@dataclass(frozen=True, slots=True)
class Preferences:
    use_generic_wix_pages: bool = True
    maintain_identity: bool = True
    additional_query_parameters: dict[str, str] = field(default_factory=dict)
    check_if_publish: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "useGenericWixPages": self.use_generic_wix_pages,
            "maintainIdentity": self.maintain_identity,
            "additionalQueryParameters": self.additional_query_parameters,
            "checkIfPublish": self.check_if_publish,
        }


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """A validated request: the intent and its cleaned parameters, ready to be stored."""

    intent: str
    params: dict[str, Any]
    callbacks: dict[str, str]
    preferences: Preferences
    origin: str | None
    prompt: str | None = None

    @property
    def intent_client_id(self) -> str | None:
        """The OAuth app the intent itself names (``logout``, ``auth``), if any."""
        return self.params.get("clientId") if self.intent in ("logout", AUTH_INTENT) else None


@dataclass(frozen=True, slots=True)
class AppRules:
    """What the checks need to know of an OAuth app."""

    client_id: str
    allowed_domains: tuple[str, ...]
    redirect_uris: tuple[str, ...]


def parse_request(body: Any) -> tuple[SessionRequest | None, list[FieldViolation]]:
    """Check everything the body alone can tell. Returns the request (``None`` when its intent
    could not be determined) and every violation found."""
    violations: list[FieldViolation] = []
    r = Reader(violations)
    if not isinstance(body, dict):
        r.fail("", Rule.FORMAT, "the request body must be a JSON object")
        return None, violations
    try:
        body = camelize(body, _MAPS)
    except TooDeep as exc:
        r.fail("", Rule.VALIDATION, str(exc))
        return None, violations
    present = [name for name in INTENTS if body.get(name) is not None]
    if not present:
        r.fail(
            "intent",
            Rule.REQUIRED_ONE_OF_FIELD,
            "exactly one intent is required: " + ", ".join(INTENTS),
            oneOf=list(INTENTS),
        )
    elif len(present) > 1:
        for name in present:
            r.fail(name, Rule.ONE_OF_ALIGNMENT, "only one intent may be given", given=present)

    callbacks = _parse_callbacks(r, body)
    preferences = _parse_preferences(r, body)
    origin = r.string(body, "origin", "origin", max_length=2048)

    if len(present) != 1:
        return None, violations
    intent = present[0]
    params, prompt = _INTENT_PARSERS[intent](r, body, intent)
    if intent == AUTH_INTENT and "postFlowUrl" in callbacks:
        r.fail(
            "callbacks.postFlowUrl",
            Rule.FIELD_NOT_ALLOWED,
            "must not be set for the auth intent: use auth.authRequest.redirectUri",
        )
    reserved = reserved_parameters(intent)
    for key in preferences.additional_query_parameters:
        if key in reserved:
            r.fail(
                f"preferences.additionalQueryParameters.{key}",
                Rule.FIELD_NOT_ALLOWED,
                f"'{key}' is set by the service and cannot be overridden",
            )
    request = SessionRequest(intent, params, callbacks, preferences, origin, prompt)
    return request, violations


def reserved_parameters(intent: str) -> frozenset[str]:
    """Query parameter names the service sets for ``intent``."""
    names = {SESSION_ID_PARAM}
    if intent == AUTH_INTENT:
        names.update(wire for _, wire in _AUTH_URL_FIELDS)
        names.add("prompt")
    names.update(_URL_FIELDS.get(intent, ()))
    return frozenset(names)


def check_against_apps(
    request: SessionRequest,
    apps: Mapping[str, AppRules],
    callback_app: str | None,
) -> list[FieldViolation]:
    """Checks that need the site's apps. ``callback_app`` is the caller's app (from its token);
    ``None`` (an API-key caller) checks callbacks against every app of the site, unless the
    intent names its own app."""
    violations: list[FieldViolation] = []
    r = Reader(violations)
    intent_client = request.intent_client_id
    client_path = "logout.clientId" if request.intent == "logout" else "auth.authRequest.clientId"
    if intent_client is not None and intent_client not in apps:
        r.fail(client_path, Rule.VALIDATION, "is not an OAuth app of this site")
        return violations
    if intent_client is not None:
        domains = apps[intent_client].allowed_domains
    elif callback_app is not None and callback_app in apps:
        domains = apps[callback_app].allowed_domains
    else:
        domains = tuple(d for app in apps.values() for d in app.allowed_domains)
    for name, url in request.callbacks.items():
        problem = check_callback_url(url, domains)
        if problem is not None:
            r.fail(f"callbacks.{name}", problem.rule, problem.description)
    if request.intent == AUTH_INTENT and intent_client is not None:
        redirect_uri = request.params.get("redirectUri")
        if redirect_uri is not None and redirect_uri not in apps[intent_client].redirect_uris:
            r.fail(
                "auth.authRequest.redirectUri",
                Rule.VALIDATION,
                "must exactly match one of the app's allowed redirect URIs",
            )
    return violations


def destination(
    request: SessionRequest,
    session_id: str,
    base_url: str,
    page_settings: Mapping[str, Any],
    header_lang: str | None,
) -> tuple[str, dict[str, str]]:
    """The hosted page's endpoint and query parameters for a session (SPEC §3, §5)."""
    path = INTENT_PATHS[request.intent]
    custom = page_settings.get(request.intent) if request.intent != AUTH_INTENT else None
    if isinstance(custom, dict) and isinstance(custom.get("path"), str):
        prefs = request.preferences
        published = bool(custom.get("published"))
        if prefs.check_if_publish:
            if published:
                path = custom["path"]
        elif not prefs.use_generic_wix_pages:
            path = custom["path"]
    endpoint = base_url.rstrip("/") + path
    params: dict[str, str] = {}
    if request.intent == AUTH_INTENT:
        for key, wire in _AUTH_URL_FIELDS:
            value = request.params.get(key)
            if value is not None:
                params[wire] = value
        if request.prompt is not None:
            params["prompt"] = request.prompt
    else:
        for key in _URL_FIELDS.get(request.intent, ()):
            value = request.params.get(key)
            if value is not None:
                params[key] = value
    params[SESSION_ID_PARAM] = session_id
    params.update(request.preferences.additional_query_parameters)
    if header_lang is not None and "lang" not in params:
        params["lang"] = header_lang
    return endpoint, params


# --- parsers of the common fields -------------------------------------------------------


def _parse_callbacks(r: Reader, body: dict[str, Any]) -> dict[str, str]:
    raw = r.obj(body, "callbacks", "callbacks")
    if raw is None:
        return {}
    out: dict[str, str] = {}
    for name in CALLBACK_FIELDS:
        value = r.string(raw, name, f"callbacks.{name}", max_length=2048)
        if value:
            out[name] = value
    return out


def _parse_preferences(r: Reader, body: dict[str, Any]) -> Preferences:
    raw = r.obj(body, "preferences", "preferences")
    if raw is None:
        return Preferences()
    path = "preferences.additionalQueryParameters"
    extra: dict[str, str] = {}
    params = r.obj(raw, "additionalQueryParameters", path)
    if params is not None:
        if len(params) > MAX_QUERY_PARAMETERS:
            r.fail(path, Rule.MAX_SIZE, f"must have at most {MAX_QUERY_PARAMETERS} entries",
                   max=MAX_QUERY_PARAMETERS)
        for key, value in params.items():
            if not key or len(key) > 256 or not key.isprintable():
                r.fail(f"{path}.{key}", Rule.FORMAT, "must be a non-empty printable name of at most 256 characters")
            elif not isinstance(value, str):
                r.fail(f"{path}.{key}", Rule.FORMAT, "must be a string")
            else:
                extra[key] = value
    return Preferences(
        use_generic_wix_pages=r.boolean(raw, "useGenericWixPages", "preferences.useGenericWixPages", True),
        maintain_identity=r.boolean(raw, "maintainIdentity", "preferences.maintainIdentity", True),
        additional_query_parameters=extra,
        check_if_publish=r.boolean(raw, "checkIfPublish", "preferences.checkIfPublish", False),
    )


# --- parsers of each intent ---------------------------------------------------------------

_Parsed = tuple[dict[str, Any], str | None]


def _keep(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _ecom_checkout(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    return _keep(checkoutId=r.guid(raw, "checkoutId", f"{name}.checkoutId", required=True)), None


def _events_checkout(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    slug = r.string(raw, "eventSlug", f"{name}.eventSlug", required=True, max_length=150)
    if slug is not None and not _SLUG.match(slug):
        r.fail(f"{name}.eventSlug", Rule.FORMAT, "must be a URL slug such as my-event-4")
        slug = None
    return _keep(
        reservationId=r.guid(raw, "reservationId", f"{name}.reservationId", required=True),
        eventSlug=slug,
    ), None


def _plans_checkout(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    return _keep(
        planId=r.guid(raw, "planId", f"{name}.planId", required=True),
        checkoutData=r.string(raw, "checkoutData", f"{name}.checkoutData", max_length=1024),
    ), None


def _login(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    r.obj(body, name, name)
    return {}, None


def _logout(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    return _keep(clientId=r.guid(raw, "clientId", f"{name}.clientId", required=True)), None


def _stores_product(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    slug = r.string(raw, "productSlug", f"{name}.productSlug", required=True, max_length=150)
    return _keep(productSlug=slug), None


def _bookings_book(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    return _keep(resourceId=r.guid(raw, "resourceId", f"{name}.resourceId")), None


def _payment_request(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    return _keep(
        paymentRequestId=r.guid(raw, "paymentRequestId", f"{name}.paymentRequestId", required=True)
    ), None


def _auth(r: Reader, body: dict[str, Any], name: str) -> _Parsed:
    raw = r.obj(body, name, name) or {}
    prompt = r.enum(raw, "prompt", f"{name}.prompt", ("login", "none"))
    base = f"{name}.authRequest"
    req = r.obj(raw, "authRequest", base, required=True)
    if req is None:
        return {}, prompt
    response_mode = r.enum(req, "responseMode", f"{base}.responseMode", ("query", "fragment", "web_message"))
    redirect_uri = r.string(req, "redirectUri", f"{base}.redirectUri", max_length=2048) or None
    if redirect_uri is None and response_mode != "web_message":
        r.fail(f"{base}.redirectUri", Rule.REQUIRED_FIELD,
               "is required unless responseMode is web_message")
    challenge = r.string(req, "codeChallenge", f"{base}.codeChallenge", max_length=128) or None
    if challenge is not None and not _PKCE_CHALLENGE.match(challenge):
        r.fail(f"{base}.codeChallenge", Rule.FORMAT,
               "must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)")
    # PKCE is required for the code flow (RFC 9700 §2.1.1: public clients MUST use it).
    if challenge is None and req.get("codeChallenge") in (None, ""):
        r.fail(f"{base}.codeChallenge", Rule.REQUIRED_FIELD, "is required: PKCE (RFC 7636) protects every code")
    method_value = req.get("codeChallengeMethod")
    method = r.enum(req, "codeChallengeMethod", f"{base}.codeChallengeMethod", ("S256", "S512"))
    if method_value is None:  # a plain, unknown or empty method is reported by enum() already
        r.fail(f"{base}.codeChallengeMethod", Rule.REQUIRED_FIELD, "is required: S256 or S512")
    response_type = r.string(req, "responseType", f"{base}.responseType", required=True)
    if response_type is not None and response_type != "code":
        r.fail(f"{base}.responseType", Rule.INVALID_ENUM_VALUE, "must be code", allowed=["code"])
    params = _keep(
        clientId=r.guid(req, "clientId", f"{base}.clientId", required=True),
        responseType=response_type,
        redirectUri=redirect_uri,
        scope=r.string(req, "scope", f"{base}.scope", max_length=512) or None,
        state=r.string(req, "state", f"{base}.state", max_length=1024) or None,
        responseMode=response_mode or "query",
        codeChallenge=challenge,
        codeChallengeMethod=method,
        sessionToken=r.string(req, "sessionToken", f"{base}.sessionToken", max_length=4096) or None,
        nonce=r.string(req, "nonce", f"{base}.nonce", max_length=512) or None,
    )
    return params, prompt


_INTENT_PARSERS: dict[str, Any] = {
    "bookingsCheckout": parse_bookings_checkout,
    "ecomCheckout": _ecom_checkout,
    "eventsCheckout": _events_checkout,
    "paidPlansCheckout": _plans_checkout,
    "login": _login,
    "logout": _logout,
    "auth": _auth,
    "storesProduct": _stores_product,
    "bookingsBook": _bookings_book,
    "ecomOrderPaymentRequest": _payment_request,
}
