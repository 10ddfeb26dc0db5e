"""The declaration of one intent: its fields and their rules, and everything the service derives
from it (the validator, the session URL, the hosted page, the outcome, the OpenAPI schema and the
SDK's typed parameters).

A :class:`Field` states a rule once; the full validator reports it, the fast path from raw bytes
refuses on it, and the OpenAPI document describes it, all by reading the same declaration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..fields import Reader

__all__ = [
    "CALLBACK_FIELDS",
    "Check",
    "Field",
    "Intent",
    "Kind",
    "choice",
    "count",
    "flag",
    "group",
    "guid",
    "instant",
    "text",
    "zone",
]

# The callback URLs a request may carry (SPEC §3); a back link names one of them.
CALLBACK_FIELDS = (
    "thankYouPageUrl",
    "postFlowUrl",
    "loginUrl",
    "bookingsServiceListUrl",
    "cartPageUrl",
    "planListUrl",
)

Kind = Literal["guid", "text", "choice", "flag", "count", "zone", "instant", "group"]
# A rule that spans fields: (reader, the intent's read values, the intent's path) -> records violations.
Check = Callable[["Reader", dict[str, Any], str], None]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an intent's object and its rules. Build with the helpers below."""

    name: str
    kind: Kind
    required: bool = False
    # Appended to "is required" where the reason helps the caller (PKCE, for instance).
    required_hint: str = ""
    # The empty string counts as not given: "is required" when required, dropped when optional.
    blank_is_absent: bool = False
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""
    choices: tuple[str, ...] = ()
    # What an absent field reads as (a flag's value, an enumeration's default).
    default: Any = None
    years: tuple[int, int] | None = None
    fields: tuple[Field, ...] = ()
    # The query parameter of the session URL this field is copied into (the page renders from it).
    url_name: str | None = None
    # The GUID of one of the site's OAuth apps: the callbacks are checked against that app.
    names_app: bool = False
    # Must exactly match one of the named app's allowed redirect URIs.
    app_redirect_uri: bool = False

    @property
    def required_message(self) -> str:
        return f"is required: {self.required_hint}" if self.required_hint else "is required"


def guid(name: str, *, required: bool = False, url: bool | str = False, names_app: bool = False) -> Field:
    return Field(name, "guid", required=required, blank_is_absent=True, url_name=_url_name(name, url),
                 names_app=names_app)


def text(name: str, max_length: int, *, required: bool = False, required_hint: str = "",
         blank_is_absent: bool | None = None, pattern: str | None = None, pattern_hint: str = "",
         url: bool | str = False, app_redirect_uri: bool = False) -> Field:
    """A string; ``url`` copies it into the session URL (``True``: under its own name). A blank
    required string is missing; a blank optional one is kept unless ``blank_is_absent``."""
    blank = required if blank_is_absent is None else blank_is_absent
    return Field(name, "text", required=required, required_hint=required_hint, blank_is_absent=blank,
                 max_length=max_length, pattern=re.compile(pattern) if pattern else None, pattern_hint=pattern_hint,
                 url_name=_url_name(name, url), app_redirect_uri=app_redirect_uri)


def choice(name: str, choices: tuple[str, ...], *, required: bool = False, required_hint: str = "",
           blank_is_absent: bool = False, default: str | None = None, url: bool | str = False) -> Field:
    return Field(name, "choice", required=required, required_hint=required_hint, blank_is_absent=blank_is_absent,
                 choices=choices, default=default, url_name=_url_name(name, url))


def flag(name: str, default: bool) -> Field:
    return Field(name, "flag", default=default)


def count(name: str) -> Field:
    """A non-negative integer (a number, or a string of digits as proto3 JSON sends 64-bit ones)."""
    return Field(name, "count")


def zone(name: str) -> Field:
    """An IANA time zone name of at most 40 characters."""
    return Field(name, "zone", max_length=40)


def instant(name: str, *, required: bool = False, years: tuple[int, int] | None = None) -> Field:
    """An RFC 3339 date-time, kept as given; ``years`` bounds the calendar year."""
    return Field(name, "instant", required=required, blank_is_absent=required, max_length=64, years=years)


def group(name: str, *fields: Field, required: bool = False) -> Field:
    """A nested object of ``fields``."""
    return Field(name, "group", required=required, fields=fields)


def _url_name(name: str, url: bool | str) -> str | None:
    if isinstance(url, str):
        return url
    return name if url else None


@dataclass(frozen=True, slots=True)
class Intent:
    """One intent of Create Redirect Session (SPEC §3) and its hosted flow (SPEC §5)."""

    name: str
    # Hosted-page path on the site's base URL (documented in the README).
    path: str
    fields: tuple[Field, ...] = ()
    # Rules that span fields, run after every field is read.
    checks: tuple[Check, ...] = ()
    # The group whose members are the session's parameters (auth: ``authRequest``); else every field.
    params_from: str | None = None
    # The field read into the session's ``prompt`` instead of its parameters.
    prompt_from: str | None = None
    # Callbacks this intent refuses, with the reason.
    refused_callbacks: tuple[tuple[str, str], ...] = ()
    # Whether a site may serve this intent on a page of its own (useGenericWixPages, checkIfPublish).
    site_page: bool = True
    # A checkout-like page served by web/checkout.py.
    flow_page: bool = False
    complete_label: str = "Place order"
    back_label: str | None = None
    # The callback the page's "back" control leads to.
    back_link: str | None = None
    # The thank-you page's parameters: (query parameter, attribute of the placed order).
    outcome: tuple[tuple[str, str], ...] = (("orderId", "order_id"),)
    # Derived once (see __post_init__): the parameters' fields and the query parameters set.
    param_fields: tuple[Field, ...] = field(init=False, repr=False, compare=False)
    url_fields: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)
    prompt_url_name: str | None = field(init=False, repr=False, compare=False)
    # The parameter naming the OAuth app the intent itself is for (logout, auth), and its wire path.
    app_param: str | None = field(init=False, repr=False, compare=False)
    app_path: str | None = field(init=False, repr=False, compare=False)
    # (parameter, wire path) of the field checked against that app's redirect URIs.
    redirect_uri_param: tuple[str, str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {f.name: f for f in self.fields}
        if self.params_from is not None:
            params = by_name[self.params_from].fields
        else:
            params = tuple(f for f in self.fields if f.name != self.prompt_from)
        prompt = by_name[self.prompt_from] if self.prompt_from is not None else None
        if self.back_link is not None and self.back_link not in CALLBACK_FIELDS:
            raise ValueError(f"{self.name}: back link {self.back_link!r} is not a callback")
        # A frozen dataclass sets its derived attributes through object.__setattr__.
        object.__setattr__(self, "param_fields", params)
        object.__setattr__(self, "url_fields",
                           tuple((f.name, f.url_name) for f in params if f.url_name is not None))
        object.__setattr__(self, "prompt_url_name", prompt.url_name if prompt is not None else None)
        app = next((f for f in params if f.names_app), None)
        object.__setattr__(self, "app_param", app.name if app is not None else None)
        object.__setattr__(self, "app_path", self._path_of(app) if app is not None else None)
        uri = next((f for f in params if f.app_redirect_uri), None)
        object.__setattr__(self, "redirect_uri_param", (uri.name, self._path_of(uri)) if uri is not None else None)

    @property
    def attribute(self) -> str:
        """The snake_case name (the SDK's keyword argument)."""
        return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), self.name)

    @property
    def url_parameters(self) -> tuple[str, ...]:
        """Query parameters the service sets from this intent (besides the session id)."""
        names = tuple(url for _, url in self.url_fields)
        return names + ((self.prompt_url_name,) if self.prompt_url_name is not None else ())

    def _path_of(self, member: Field) -> str:
        inner = f"{self.params_from}." if self.params_from is not None else ""
        return f"{self.name}.{inner}{member.name}"
