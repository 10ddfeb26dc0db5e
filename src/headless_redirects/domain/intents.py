"""The Create Redirect Session request: its intents, their rules, and where each one leads.

Every intent is declared once in :mod:`.catalogue`; this module validates a request by those
declarations and builds its session URL. Validation runs in two passes whose violations are
reported together: :func:`parse_request` checks everything the body alone can tell;
:func:`check_against_apps` checks what needs the site's OAuth apps (callback domains, redirect
URIs, client ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from .callbacks import check_callback_url
from .catalogue import CALLBACK_FIELDS, CATALOGUE, Catalogue
from .catalogue.reading import split
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
INTENTS = CATALOGUE.names
INTENT_PATHS = CATALOGUE.paths
SESSION_ID_PARAM = "redirectSessionId"
_MAPS = frozenset({"additionalQueryParameters"})
MAX_QUERY_PARAMETERS = 50


class Preferences(msgspec.Struct, frozen=True):
    use_generic_wix_pages: bool = True
    maintain_identity: bool = True
    additional_query_parameters: dict[str, str] = msgspec.field(default_factory=dict)
    check_if_publish: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "useGenericWixPages": self.use_generic_wix_pages,
            "maintainIdentity": self.maintain_identity,
            "additionalQueryParameters": self.additional_query_parameters,
            "checkIfPublish": self.check_if_publish,
        }


class SessionRequest(msgspec.Struct, frozen=True):
    """A validated request: the intent and its cleaned parameters, ready to be stored. (A struct,
    made on every create: see ``lifecycle.RedirectSession``.)"""

    intent: str
    params: dict[str, Any]
    callbacks: dict[str, str]
    preferences: Preferences
    origin: str | None
    prompt: str | None = None

    @property
    def intent_client_id(self) -> str | None:
        """The OAuth app the intent itself names (``logout``, ``auth``), if any."""
        entry = CATALOGUE.get(self.intent)
        key = entry.app_param if entry is not None else None
        return None if key is None else self.params.get(key)


@dataclass(frozen=True, slots=True)
class AppRules:
    """What the checks need to know of an OAuth app."""

    client_id: str
    allowed_domains: tuple[str, ...]
    redirect_uris: tuple[str, ...]


def parse_request(
    body: Any, catalogue: Catalogue = CATALOGUE
) -> tuple[SessionRequest | None, list[FieldViolation]]:
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
    present = [name for name in catalogue.names if body.get(name) is not None]
    if not present:
        r.fail(
            "intent",
            Rule.REQUIRED_ONE_OF_FIELD,
            "exactly one intent is required: " + ", ".join(catalogue.names),
            oneOf=list(catalogue.names),
        )
    elif len(present) > 1:
        for name in present:
            r.fail(name, Rule.ONE_OF_ALIGNMENT, "only one intent may be given", given=present)

    callbacks = _parse_callbacks(r, body)
    preferences = _parse_preferences(r, body)
    origin = r.string(body.get("origin"), "origin", max_length=2048)

    if len(present) != 1:
        return None, violations
    entry = catalogue[present[0]]
    params, prompt = split(entry, catalogue.readers[entry.name](r, r.obj(body[entry.name], entry.name) or {}))
    for name, reason in entry.refused_callbacks:
        if name in callbacks:
            r.fail(f"callbacks.{name}", Rule.FIELD_NOT_ALLOWED, reason)
    reserved = reserved_parameters(entry.name, catalogue)
    for key in preferences.additional_query_parameters:
        if key in reserved:
            r.fail(
                f"preferences.additionalQueryParameters.{key}",
                Rule.FIELD_NOT_ALLOWED,
                f"'{key}' is set by the service and cannot be overridden",
            )
    request = SessionRequest(entry.name, params, callbacks, preferences, origin, prompt)
    return request, violations


def reserved_parameters(intent: str, catalogue: Catalogue = CATALOGUE) -> frozenset[str]:
    """Query parameter names the service sets for ``intent``."""
    return frozenset((SESSION_ID_PARAM, *catalogue[intent].url_parameters))


def check_against_apps(
    request: SessionRequest,
    apps: Mapping[str, AppRules],
    callback_app: str | None,
    catalogue: Catalogue = CATALOGUE,
) -> list[FieldViolation]:
    """Checks that need the site's apps. ``callback_app`` is the caller's app (from its token);
    ``None`` (an API-key caller) checks callbacks against every app of the site, unless the
    intent names its own app."""
    violations: list[FieldViolation] = []
    r = Reader(violations)
    entry = catalogue[request.intent]
    intent_client = request.params.get(entry.app_param) if entry.app_param is not None else None
    if intent_client is not None and intent_client not in apps:
        r.fail(str(entry.app_path), Rule.VALIDATION, "is not an OAuth app of this site")
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
    if entry.redirect_uri_param is not None and intent_client is not None:
        key, path = entry.redirect_uri_param
        redirect_uri = request.params.get(key)
        if redirect_uri is not None and redirect_uri not in apps[intent_client].redirect_uris:
            r.fail(path, Rule.VALIDATION, "must exactly match one of the app's allowed redirect URIs")
    return violations


def destination(
    request: SessionRequest,
    session_id: str,
    base_url: str,
    page_settings: Mapping[str, Any],
    header_lang: str | None,
    catalogue: Catalogue = CATALOGUE,
) -> tuple[str, dict[str, str]]:
    """The hosted page's endpoint and query parameters for a session (SPEC §3, §5)."""
    entry = catalogue[request.intent]
    path = entry.path
    custom = page_settings.get(entry.name) if entry.site_page else None
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
    for key, wire in entry.url_fields:
        value = request.params.get(key)
        if value is not None:
            params[wire] = value
    if entry.prompt_url_name is not None and request.prompt is not None:
        params[entry.prompt_url_name] = request.prompt
    params[SESSION_ID_PARAM] = session_id
    params.update(request.preferences.additional_query_parameters)
    if header_lang is not None and "lang" not in params:
        params["lang"] = header_lang
    return endpoint, params


# --- parsers of the common fields -------------------------------------------------------


def _parse_callbacks(r: Reader, body: dict[str, Any]) -> dict[str, str]:
    raw = r.obj(body.get("callbacks"), "callbacks")
    if raw is None:
        return {}
    out: dict[str, str] = {}
    for name in CALLBACK_FIELDS:
        value = r.string(raw.get(name), f"callbacks.{name}", max_length=2048)
        if value:
            out[name] = value
    return out


def _parse_preferences(r: Reader, body: dict[str, Any]) -> Preferences:
    raw = r.obj(body.get("preferences"), "preferences")
    if raw is None:
        return Preferences()
    path = "preferences.additionalQueryParameters"
    extra: dict[str, str] = {}
    params = r.obj(raw.get("additionalQueryParameters"), path)
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
        use_generic_wix_pages=r.boolean(raw.get("useGenericWixPages"), "preferences.useGenericWixPages", True),
        maintain_identity=r.boolean(raw.get("maintainIdentity"), "preferences.maintainIdentity", True),
        additional_query_parameters=extra,
        check_if_publish=r.boolean(raw.get("checkIfPublish"), "preferences.checkIfPublish", False),
    )
