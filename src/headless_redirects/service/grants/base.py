"""What every grant shares: the issued-token result, the subject types, the caller's identity,
and :class:`TokenIssuer`, which signs access tokens and stores refresh tokens (RFC 6749 §5.1).

Access tokens are ES256 JWTs (``service.keys``); refresh tokens are random strings stored as
SHA-256 digests (behind their issue time, so that new rows append: ``secrets.ordered_digest``),
each in a family (``grant_id``) that is revoked as one.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any, ClassVar, Literal

import msgspec

from ...domain.fields import is_guid
from ...domain.oauth_errors import InvalidClient, InvalidRequest
from ...domain.sessions import new_guid
from ...settings import Settings
from ...storage.identity import IdentityStore
from ...storage.repository import Store
from ...storage.tokens import RefreshTokenRow
from ..keys import KeyRing
from ..secrets import new_ordered_secret, ordered_digest
from ..tenancy import Tenant, TenantCache

__all__ = ["MEMBER", "VISITOR", "Grant", "Identity", "Issued", "TokenIssuer", "TokenResponse", "act_for",
           "new_refresh_token", "now_ms", "refresh_key"]

VISITOR = "VISITOR"
MEMBER = "MEMBER"


class TokenResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    """A successful token request. The fields are named and ordered as RFC 6749 §5.1 names the
    response's members, so ``web`` writes the body straight from the Struct (no dict in
    between, on the hot path); ``refresh_token`` is left out when none was issued."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    refresh_token: str | None = None


class Issued(msgspec.Struct, frozen=True):
    """A granted token request before its access token is signed: the claims to sign and the
    rest of the answer (:meth:`TokenIssuer.sign` makes the :class:`TokenResponse`). Storage
    is done by then; the signature, pure CPU, may run in another process (``service.signer``)."""

    claims: dict[str, Any]
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def answer(self, access_token: str) -> TokenResponse:
        """The token response, with ``access_token`` signed from :attr:`claims`."""
        return TokenResponse(access_token, "Bearer", self.expires_in, self.scope, self.refresh_token)


class Identity(msgspec.Struct, frozen=True):
    """Who an access token speaks for. (A struct, as ``Issued``: see
    ``domain.lifecycle.RedirectSession``.)"""

    subject_type: str
    subject_id: str
    site_id: str
    client_id: str
    scope: str
    issued_at: float
    expires_at: float
    grant_id: str | None = None


def act_for(state: MutableMapping[str, Any] | None, *, client_id: str | None = None,
            site_id: str | None = None) -> None:
    """Record on the request's state the app (or, for an API key, the site) a request acts for:
    CORS decides on it (``web.cors``)."""
    if state is None:
        return
    if client_id:
        state["cors_for"] = ("client", client_id.lower())
    elif site_id:
        state["cors_for"] = ("site", site_id.lower())


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_REFRESH = "hrr_"


def new_refresh_token() -> str:
    """A new refresh token: 256 random bits after its issue time (``secrets.new_ordered_secret``),
    so that the rows of new tokens append to the table's last page."""
    return new_ordered_secret(_REFRESH)


def refresh_key(token: str) -> str:
    """The stored form (the primary key) of a refresh token."""
    return ordered_digest(token, _REFRESH)


class TokenIssuer:
    """The grants' common ground: client look-up, access-token signing, refresh-token rows."""

    def __init__(self, store: Store, keys: KeyRing, tenants: TenantCache, settings: Settings,
                 identity: IdentityStore) -> None:
        self.store = store
        self.identity = identity
        self.keys = keys
        self.tenants = tenants
        self.settings = settings

    def client(self, params: dict[str, str]) -> str:
        """The request's ``client_id``, lower-cased, of a known app (RFC 6749 §2.2)."""
        return self.client_tenant(params)[0]

    def client_tenant(self, params: dict[str, str]) -> tuple[str, Tenant]:
        """:meth:`client`, and the tenant its app belongs to."""
        client_id = params.get("client_id")
        if not client_id:
            raise InvalidRequest("client_id is required")
        found = self.tenants.tenant_of_app(client_id.lower()) if is_guid(client_id) else None
        if found is None:
            raise InvalidClient("unknown client_id")
        return client_id.lower(), found[0]

    def acting_client(self, params: dict[str, str], acting: MutableMapping[str, Any] | None) -> str:
        """:meth:`client`, recorded on the request for CORS before anything else can fail."""
        return self.acting_tenant(params, acting)[0]

    def acting_tenant(self, params: dict[str, str], acting: MutableMapping[str, Any] | None) -> tuple[str, Tenant]:
        """:meth:`client_tenant`, the client recorded as :meth:`acting_client` records it."""
        found = self.client_tenant(params)
        act_for(acting, client_id=found[0])
        return found

    def sign(self, issued: Issued) -> TokenResponse:
        """The token response of ``issued``, its access token signed here (on the caller's thread)."""
        return issued.answer(self.keys.sign(issued.claims))

    def prepare(
        self,
        subject_type: str,
        subject_id: str,
        site_id: str,
        client_id: str,
        scope: str,
        *,
        refresh: bool = False,
        grant_id: str | None = None,
        refresh_token: str | None = None,
    ) -> Issued:
        """The claims of an access token, to be signed; with ``refresh``, store a new refresh
        token too, or hand back ``refresh_token`` a grant already stored. ``grant_id`` ties the
        tokens to the grant that produced them (a refresh family, an authorization code), so it
        can be revoked."""
        now = time.time()
        ttl = self.settings.access_token_ttl
        claims = {
            "iss": self.keys.issuer,
            "sub": subject_id,
            "sub_type": subject_type,
            "site_id": site_id,
            "client_id": client_id,
            "scope": scope,
            "iat": round(now, 3),
            "exp": int(now) + ttl,
        }
        if grant_id is not None:
            claims["gid"] = grant_id
        if refresh:
            refresh_token = new_refresh_token()
            self.store.tokens.insert_refresh_token(
                self.refresh_row(refresh_token, subject_type, subject_id, site_id, client_id, scope,
                                 grant_id or new_guid())
            )
        return Issued(claims, ttl, scope, refresh_token)

    def refresh_row(
        self, token: str, subject_type: str, subject_id: str, site_id: str, client_id: str,
        scope: str, family_id: str,
    ) -> RefreshTokenRow:
        issued_ms = now_ms()
        return RefreshTokenRow(
            token_hash=refresh_key(token),
            site_id=site_id,
            client_id=client_id,
            subject_type=subject_type,
            subject_id=subject_id,
            scope=scope,
            family_id=family_id,
            issued_at_ms=issued_ms,
            expires_at=issued_ms // 1000 + self.settings.refresh_token_ttl,
        )


class Grant:
    """A grant type of the token endpoint (RFC 6749 §4): it owns the protocol, and reaches
    storage and signing through its :class:`TokenIssuer`."""

    GRANT_TYPE: ClassVar[str]

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer

    def create_token_response(self, params: dict[str, str], authorization: str | None,
                              acting: MutableMapping[str, Any] | None) -> Issued:
        """Answer a token request of this grant type (all but the signature: ``Issued``):
        ``params`` by their RFC 6749 names, ``authorization`` the request's header, ``acting``
        its ASGI state (for CORS)."""
        raise NotImplementedError
