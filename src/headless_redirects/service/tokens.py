"""The OAuth 2.0 token service: the token endpoint's grants (``service.grants``), token
introspection, revocation, and caller authentication.

A subject's tokens die together on logout through ``revocations``: an access token issued
before the subject's ``revoked_before`` instant is refused everywhere.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Annotated, Any

import msgspec

from ..domain.errors import Unauthenticated
from ..domain.oauth_errors import InvalidRequest, UnsupportedGrantType
from ..settings import Settings
from ..storage.identity import IdentityStore
from ..storage.repository import Store
from .grants import (
    MEMBER,
    SIGN_ON_SCOPE,
    VISITOR,
    AnonymousGrant,
    AuthorizationCodeGrant,
    AuthorizedClientGrant,
    Grant,
    Identity,
    Issued,
    RefreshTokenGrant,
    TokenIssuer,
    TokenResponse,
    act_for,
)
from .grants.base import now_ms, refresh_key
from .keys import InvalidToken, KeyRing
from .signer import Pending, Signer
from .tenancy import TenantCache

__all__ = ["MEMBER", "SIGN_ON_SCOPE", "VISITOR", "Identity", "TokenInfo", "TokenResponse", "TokenService",
           "act_for"]


# ``rename``: each field's name on the wire (SPEC §4, as ``web.oauth.token_info_wire`` writes it).
class TokenInfo(msgspec.Struct, frozen=True, rename={
        "subject_type": "subjectType", "subject_id": "subjectId", "site_id": "siteId", "client_id": "clientId",
        "expires_at": "exp", "issued_at": "iat"}):
    """What ``/oauth2/token-info`` tells of a token: ``active`` only, when it is not live;
    otherwise who it speaks for and when it was issued and expires (seconds since the epoch)."""

    active: bool
    subject_type: Annotated[str, msgspec.Meta(extra_json_schema={"enum": [VISITOR, MEMBER]})] = ""
    subject_id: str = ""
    site_id: str = ""
    client_id: str = ""
    expires_at: int = 0
    issued_at: int = 0
    scope: str = ""


# The access tokens whose identity is kept (``TokenService.authenticate``); past it, made anew.
IDENTITIES_KEPT = 10_000


class TokenService:
    def __init__(self, store: Store, keys: KeyRing, tenants: TenantCache, settings: Settings,
                 identity: IdentityStore) -> None:
        self.store = store
        self.keys = keys
        self._identities: dict[str, Identity] = {}
        self.issuer = TokenIssuer(store, keys, tenants, settings, identity)
        # The token endpoint signs off the event loop (``signer``); everything else signs inline.
        self.signer = Signer(keys)
        self.codes = AuthorizationCodeGrant(self.issuer)
        self.trusted = AuthorizedClientGrant(self.issuer, self.authenticate)
        self._grants: dict[str, Grant] = {
            grant.GRANT_TYPE: grant
            for grant in (AnonymousGrant(self.issuer), RefreshTokenGrant(self.issuer), self.codes, self.trusted)
        }

    # --- the token endpoint (RFC 6749 §3.2) --------------------------------------------------

    def grant(self, params: dict[str, str], authorization: str | None = None,
              acting: MutableMapping[str, Any] | None = None) -> TokenResponse:
        """Run a token request. ``acting`` (the request's ASGI state) learns the app or site the
        request acts for, for CORS (``web.cors``)."""
        return self.issuer.sign(self.prepare_grant(params, authorization, acting))

    def prepare_grant(self, params: dict[str, str], authorization: str | None = None,
                      acting: MutableMapping[str, Any] | None = None) -> Issued:
        """:meth:`grant` but for the access token's signature, which the caller makes
        (``issuer.sign``, or off the event loop: ``service.signer``)."""
        grant_type = params.get("grant_type")
        if not grant_type:
            raise InvalidRequest("grant_type is required")
        grant = self._grants.get(grant_type)
        if grant is None:
            # A client that is unknown hears so before it hears that the grant is.
            self.issuer.acting_client(params, acting)
            raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")
        return grant.create_token_response(params, authorization, acting)

    def begin_signature(self, issued: Issued) -> Pending:
        """Ask the signer for the access token of ``issued`` (``Signer.begin``; off the loop)."""
        return self.signer.begin(issued.claims)

    def site_of_backend(self, authorization: str | None) -> tuple[str, Identity | None]:
        """A trusted backend's site and caller (``grants.authorized_client``)."""
        return self.trusted.site_of_backend(authorization)

    # --- revocation (RFC 7009) -------------------------------------------------------------

    def revoke(self, token: str, client_id: str | None = None) -> None:
        """Revoke a refresh token (with its grant) or an access token (its grant, or for a
        visitor token without one, the visitor). Unknown tokens are ignored (RFC 7009 §2.2).

        With ``client_id`` (RFC 7009 §2.1: the server checks that the token was issued to the
        client asking), a token issued to another client is treated like an unknown one: the
        answer is the same and nothing is revoked, so a client learns nothing about other
        clients' tokens. An unknown ``client_id`` is :class:`InvalidClient`."""
        if client_id is not None:
            client_id = self.issuer.client({"client_id": client_id})
        row = self.store.tokens.refresh_token(refresh_key(token))
        if row is not None:
            if client_id is not None and row.client_id != client_id:
                return
            self.store.tokens.revoke_refresh_token(row.token_hash, int(time.time()))
            self.store.tokens.revoke(row.family_id, now_ms() + 1)
            return
        try:
            claims = self.keys.verify(token)
        except InvalidToken:
            return
        if client_id is not None and claims.get("client_id") != client_id:
            return
        self.store.tokens.revoke(claims.get("gid") or claims["sub"], now_ms() + 1)

    def revoke_subject(self, subject_id: str) -> None:
        """Logout: every token of the subject issued until now dies, on every instance."""
        self.store.tokens.revoke(subject_id, now_ms() + 1)

    # --- access tokens ---------------------------------------------------------------------

    def authenticate(self, token: str) -> Identity:
        """The identity behind a live access token, or :class:`Unauthenticated`."""
        try:
            claims = self.keys.verify(token)
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from exc
        # A token's claims are its own (verified, and live: ``verify``), so its identity is
        # made once (measured: 4 % of a create session's instructions, ``bench/instructions.py``).
        identity = self._identities.get(token)
        if identity is None:
            identity = Identity(
                subject_type=claims.get("sub_type", VISITOR),
                subject_id=claims["sub"],
                site_id=claims.get("site_id", ""),
                client_id=claims.get("client_id", ""),
                scope=claims.get("scope", ""),
                issued_at=float(claims["iat"]),
                expires_at=float(claims["exp"]),
                grant_id=claims.get("gid"),
            )
            if len(self._identities) >= IDENTITIES_KEPT:
                self._identities.clear()
            self._identities[token] = identity
        if identity.grant_id:
            revoked_before = self.store.tokens.revoked_before(identity.subject_id, identity.grant_id)
        else:
            revoked_before = self.store.tokens.revoked_before(identity.subject_id)
        if revoked_before is not None and round(identity.issued_at * 1000) < revoked_before:
            raise Unauthenticated("the token was revoked")
        return identity

    def token_info(self, token: str) -> TokenInfo:
        """``/oauth2/token-info``: who the token belongs to, or an inactive token."""
        try:
            identity = self.authenticate(token)
        except Unauthenticated:
            return TokenInfo(active=False)
        return TokenInfo(
            active=True,
            subject_type=identity.subject_type,
            subject_id=identity.subject_id,
            site_id=identity.site_id,
            client_id=identity.client_id,
            expires_at=int(identity.expires_at),
            issued_at=int(identity.issued_at),
            scope=identity.scope,
        )
