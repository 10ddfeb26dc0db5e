"""What the admin use cases (``service.admin``) return and raise.

Results are msgspec Structs whose field names are those of the stored rows, so each is read
from its row by ``msgspec.convert(row, Type, from_attributes=True)``; times are Unix seconds
(``*_at``) except where a name says milliseconds. The entrypoint (the CLI) writes them out.

Errors::

    AdminError            an unknown id, or a value the use case refuses; the message is safe to print
    ├── NotFound          no site, app, key, member, session, endpoint or event with this id
    ├── Invalid           a value the use case refuses (a bad URL, origin, email, password, provider)
    └── NothingToChange   an update with no value to set
"""

from __future__ import annotations

import msgspec

__all__ = [
    "AdminError", "ApiKey", "App", "Attempt", "Endpoint", "Invalid", "Mail", "Member", "NewApiKey",
    "NewEndpoint", "NewSite", "NotFound", "NothingToChange", "Page", "Resent", "RevokedKey", "SessionSummary",
    "SentTestEvent", "SigningKey", "Site",
]


class AdminError(Exception):
    """An admin use case refused; the message says why."""


class NotFound(AdminError):
    """No row with the id given."""


class Invalid(AdminError):
    """A value the use case refuses."""


class NothingToChange(AdminError):
    """An update named no value to change."""

    def __init__(self) -> None:
        super().__init__("nothing to change")


class NewSite(msgspec.Struct, frozen=True, kw_only=True):
    """A site with one OAuth app and one API key; ``api_key`` is shown once (stored as a hash)."""

    site_id: str
    client_id: str
    api_key: str


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """A site's custom page for an intent (``useGenericWixPages=false`` / ``checkIfPublish``)."""

    path: str
    published: bool


class Site(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    base_url: str | None
    flow_provider: str
    registration_policy: str
    page_settings: dict[str, Page]
    created_at: int


class App(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    site_id: str
    name: str
    allowed_domains: list[str]
    redirect_uris: list[str]
    allowed_origins: list[str]
    created_at: int


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """An API key as listed: never the key itself."""

    id: str
    site_id: str
    name: str
    scopes: list[str]
    created_at: int
    revoked_at: int | None


class NewApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new API key; ``api_key`` is shown once (stored as a hash)."""

    id: str
    api_key: str
    scopes: list[str]


class RevokedKey(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    revoked_at: int


class SigningKey(msgspec.Struct, frozen=True, kw_only=True):
    kid: str


class Member(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    site_id: str
    email: str
    status: str
    email_verified: bool
    created_at: int
    last_login_at: int | None


class SessionSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A redirect session as listed; ``state`` as of the moment it was read."""

    id: str
    intent: str
    state: str
    site_id: str
    created_at: int
    expires_at: int


class Mail(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    recipient: str
    subject: str
    body: str
    status: str
    created_at: int
    sent_at: int | None
    error: str | None


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A webhook endpoint as listed: never its secret."""

    id: str
    site_id: str
    url: str
    events: list[str]
    created_at: int
    disabled_at: int | None
    disabled_reason: str | None


class NewEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A new webhook endpoint; its ``whsec_`` secret is shown once."""

    id: str
    site_id: str
    url: str
    events: list[str]
    secret: str


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One delivery attempt; ``at`` in milliseconds."""

    event_id: str
    attempt: int
    at: int
    status_code: int | None
    error: str | None
    duration_ms: int


class Resent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    deliveries: int


class SentTestEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A ``webhook.test`` event sent now: what the receiver answered (``None``: no answer)."""

    event_id: str
    status_code: int | None
    delivered: bool
