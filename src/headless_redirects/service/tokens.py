"""The OAuth 2.0 token service: grants, token introspection, and caller authentication.

Access tokens are ES256 JWTs (``service.keys``); refresh tokens are random strings stored as
SHA-256 digests. A subject's tokens die together on logout through ``revocations``: an access
token issued before the subject's ``revoked_before`` instant is refused everywhere.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from ..domain.errors import Unauthenticated
from ..domain.fields import is_guid
from ..domain.oauth_errors import InvalidClient, InvalidGrant, InvalidRequest, UnauthorizedClient, UnsupportedGrantType
from ..domain.pkce import PkceError
from ..domain.pkce import verify as verify_pkce
from ..domain.sessions import new_guid
from ..settings import Settings
from ..storage.identity import AuthorizationCodeRow, IdentityStore
from ..storage.repository import RefreshTokenRow, Store
from .keys import InvalidToken, KeyRing
from .secrets import digest, new_secret
from .tenancy import TenantCache

__all__ = ["MEMBER", "SIGN_ON_SCOPE", "VISITOR", "Identity", "TokenService", "act_for"]

# The API-key scope that lets a site's backend log members in (sign-on, authorized_client).
# Never granted by default: ``headless-redirects keys create --scope SCOPE.IAM.SIGN-ON``.
SIGN_ON_SCOPE = "SCOPE.IAM.SIGN-ON"


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

VISITOR = "VISITOR"
MEMBER = "MEMBER"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who an access token speaks for."""

    subject_type: str
    subject_id: str
    site_id: str
    client_id: str
    scope: str
    issued_at: float
    expires_at: float
    grant_id: str | None = None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class TokenService:
    def __init__(self, store: Store, keys: KeyRing, tenants: TenantCache, settings: Settings,
                 identity: IdentityStore) -> None:
        self.store = store
        self.identity = identity
        self.keys = keys
        self.tenants = tenants
        self.settings = settings

    # --- grants (RFC 6749 §4, §6) ----------------------------------------------------------

    def grant(self, params: dict[str, str], authorization: str | None = None,
              acting: MutableMapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a token request. ``acting`` (the request's ASGI state) learns the app or site the
        request acts for, for CORS (``web.cors``)."""
        grant_type = params.get("grant_type")
        if not grant_type:
            raise InvalidRequest("grant_type is required")
        if grant_type == "authorized_client":
            return self.authorized_client(params, authorization, acting)
        if grant_type == "refresh_token":
            token = params.get("refresh_token")
            if not token:
                raise InvalidRequest("refresh_token is required")
            # The official SDK's SiteSessionAuth sends no clientId: the app is the token's.
            client_id = self._client(params) if params.get("client_id") else None
            return self.refresh(client_id, token, acting)
        client_id = self._client(params)
        act_for(acting, client_id=client_id)
        if grant_type == "anonymous":
            return self.anonymous(client_id)
        if grant_type == "authorization_code":
            return self.authorization_code(client_id, params)
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")

    def _client(self, params: dict[str, str]) -> str:
        client_id = params.get("client_id")
        if not client_id:
            raise InvalidRequest("client_id is required")
        if not is_guid(client_id) or self.tenants.tenant_of_app(client_id.lower()) is None:
            raise InvalidClient("unknown client_id")
        return client_id.lower()

    def anonymous(self, client_id: str) -> dict[str, Any]:
        """A new visitor: an access token and a refresh token."""
        found = self.tenants.tenant_of_app(client_id)
        if found is None:
            raise InvalidClient("unknown client_id")
        tenant, _ = found
        return self.issue(VISITOR, new_guid(), tenant.site.id, client_id, "", refresh=True)

    def refresh(self, client_id: str | None, refresh_token: str,
                acting: MutableMapping[str, Any] | None = None) -> dict[str, Any]:
        now = int(time.time())
        row = self.store.refresh_token(digest(refresh_token))
        if row is None or (client_id is not None and row.client_id != client_id):
            raise InvalidGrant("the refresh token is invalid or was issued to another client")
        client_id = row.client_id
        act_for(acting, client_id=client_id)
        if row.revoked_at is not None:
            raise InvalidGrant("the refresh token was revoked")
        if row.expires_at <= now:
            raise InvalidGrant("the refresh token has expired")
        revoked_before = self.store.revoked_before(row.subject_id, row.family_id)
        if revoked_before is not None and row.issued_at_ms < revoked_before:
            raise InvalidGrant("the refresh token was revoked")
        if not self.settings.strict_refresh_rotation:
            # The official SDK keeps its refresh token after a refresh: it stays valid.
            return self.issue(row.subject_type, row.subject_id, row.site_id, client_id, row.scope,
                              grant_id=row.family_id)
        if row.rotated_at is not None:
            # RFC 9700 §4.14.2: a rotated token came back, so one of its holders is an attacker.
            self.store.revoke(row.family_id, _now_ms() + 1)
            raise InvalidGrant("the refresh token was already used; its family is revoked")
        new_token = new_secret("hrr_")
        new_row = self._refresh_row(new_token, row.subject_type, row.subject_id, row.site_id,
                                    client_id, row.scope, row.family_id)
        if not self.store.rotate_refresh_token(row.token_hash, new_row, now):
            self.store.revoke(row.family_id, _now_ms() + 1)
            raise InvalidGrant("the refresh token was already used; its family is revoked")
        response = self.issue(row.subject_type, row.subject_id, row.site_id, client_id, row.scope,
                              grant_id=row.family_id)
        response["refresh_token"] = new_token
        return response

    def issue(
        self,
        subject_type: str,
        subject_id: str,
        site_id: str,
        client_id: str,
        scope: str,
        *,
        refresh: bool = False,
        grant_id: str | None = None,
    ) -> dict[str, Any]:
        """Sign an access token (and store a refresh token). ``grant_id`` ties both to the grant
        that produced them (a refresh family, an authorization code), so it can be revoked."""
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
        response: dict[str, Any] = {
            "access_token": self.keys.sign(claims),
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scope,
        }
        if refresh:
            token = new_secret("hrr_")
            self.store.insert_refresh_token(
                self._refresh_row(token, subject_type, subject_id, site_id, client_id, scope,
                                  grant_id or new_guid())
            )
            response["refresh_token"] = token
        return response

    def _refresh_row(
        self, token: str, subject_type: str, subject_id: str, site_id: str, client_id: str,
        scope: str, family_id: str,
    ) -> RefreshTokenRow:
        issued_ms = _now_ms()
        return RefreshTokenRow(
            token_hash=digest(token),
            site_id=site_id,
            client_id=client_id,
            subject_type=subject_type,
            subject_id=subject_id,
            scope=scope,
            family_id=family_id,
            issued_at_ms=issued_ms,
            expires_at=issued_ms // 1000 + self.settings.refresh_token_ttl,
        )

    # --- authorization codes (RFC 6749 §4.1, RFC 7636) ----------------------------------------

    def new_code(self, *, site_id: str, client_id: str, member_id: str, params: dict[str, Any]) -> str:
        """Issue a single-use code for an authorize request's parameters."""
        code = new_secret("hrc_")
        now = int(time.time())
        self.identity.insert_code(AuthorizationCodeRow(
            code_hash=digest(code),
            site_id=site_id,
            client_id=client_id,
            member_id=member_id,
            redirect_uri=params.get("redirectUri"),
            scope=params.get("scope") or "",
            code_challenge=params.get("codeChallenge"),
            code_challenge_method=params.get("codeChallengeMethod"),
            nonce=params.get("nonce"),
            created_at=now,
            expires_at=now + self.settings.code_ttl,
        ))
        return code

    def authorization_code(self, client_id: str, params: dict[str, str]) -> dict[str, Any]:
        code = params.get("code")
        if not code:
            raise InvalidRequest("code is required")
        row = self.identity.code(digest(code))
        if row is None or row.client_id != client_id:
            raise InvalidGrant("the code is invalid or was issued to another client")
        if row.redeemed_at is not None:
            # RFC 6749 §4.1.2: a code used twice revokes what its first use issued.
            if row.grant_id:
                self.store.revoke(row.grant_id, _now_ms() + 1)
            raise InvalidGrant("the code was already used; the tokens it issued are revoked")
        if row.expires_at <= time.time():
            raise InvalidGrant("the code has expired")
        member = self.identity.get_member(row.member_id)
        if member is None or member.status != "APPROVED":
            raise InvalidGrant("the member was blocked or deleted after the code was issued")
        if (params.get("redirect_uri") or None) != row.redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request")
        try:
            verify_pkce(params.get("code_verifier"), row.code_challenge, row.code_challenge_method)
        except PkceError as exc:
            raise InvalidGrant(str(exc)) from None
        grant_id = new_guid()
        offline = "offline_access" in row.scope.split()
        refresh_token = new_secret("hrr_") if offline else None
        also = []
        if refresh_token is not None:
            also.append(self.store.insert_refresh_step(self._refresh_row(
                refresh_token, MEMBER, row.member_id, row.site_id, client_id, row.scope, grant_id)))
        # The redemption and the refresh token it issues commit together, or not at all.
        if not self.identity.redeem_code(row.code_hash, grant_id, int(time.time()), *also):
            raced = self.identity.code(row.code_hash)
            if raced is not None and raced.grant_id:
                self.store.revoke(raced.grant_id, _now_ms() + 1)
            raise InvalidGrant("the code was already used; the tokens it issued are revoked")
        response = self.issue(MEMBER, row.member_id, row.site_id, client_id, row.scope, grant_id=grant_id)
        if refresh_token is not None:
            response["refresh_token"] = refresh_token
        return response

    # --- trusted backends (SPEC §11) ----------------------------------------------------------

    def site_of_backend(self, authorization: str | None) -> tuple[str, Identity | None]:
        """A trusted backend's ``Authorization: <access token>,<API key>`` (the token part may be
        empty): the API key's site, if the key has the sign-on scope, and the token's identity."""
        token_part, _, key_part = (authorization or "").strip().rpartition(",")
        key_part = key_part.strip()
        if key_part[:7].lower() == "bearer ":
            key_part = key_part[7:].strip()
        key = self.tenants.api_key(digest(key_part)) if key_part else None
        if key is None or key.revoked_at is not None:
            raise InvalidClient("an API key is required: Authorization: <access token>,<API key>")
        if SIGN_ON_SCOPE not in key.scopes:
            raise UnauthorizedClient(f"the API key lacks the {SIGN_ON_SCOPE} scope")
        identity = None
        if token_part.strip():
            try:
                identity = self.authenticate(token_part.strip())
            except Unauthenticated:
                identity = None
            if identity is not None and identity.site_id != key.site_id:
                identity = None
        return key.site_id, identity

    def authorized_client(self, params: dict[str, str], authorization: str | None,
                          acting: MutableMapping[str, Any] | None) -> dict[str, Any]:
        """Member tokens for a member a trusted backend names (``member_id``; with
        ``session_token`` from sign-on, that token is spent)."""
        site_id, caller = self.site_of_backend(authorization)
        act_for(acting, site_id=site_id)
        member_id = (params.get("member_id") or "").lower()
        if not member_id:
            raise InvalidRequest("member_id is required")
        member = self.identity.get_member(member_id) if is_guid(member_id) else None
        if member is None or member.site_id != site_id or member.status != "APPROVED":
            raise InvalidGrant("no active member with this member_id on the API key's site")
        session_token = params.get("session_token")
        if session_token and not self._spend_session_token(digest(session_token), site_id, member_id):
            raise InvalidGrant("the session token is invalid, used, expired or another member's")
        tenant = self.tenants.tenant(site_id)
        if caller is not None:
            client_id = caller.client_id
        elif tenant is not None and tenant.apps:
            client_id = min(tenant.apps.values(), key=lambda a: (a.created_at, a.client_id)).client_id
        else:
            raise InvalidGrant("the site has no OAuth app to issue tokens for")
        self.identity.update_member(member_id, last_login_at=int(time.time()))
        return self.issue(MEMBER, member_id, site_id, client_id, params.get("scope") or "", refresh=True)

    def _spend_session_token(self, token_hash: str, site_id: str, member_id: str) -> bool:
        row = self.identity.member_token(token_hash)
        if (row is None or row.kind != "session" or row.used_at is not None or row.expires_at <= time.time()
                or row.site_id != site_id or row.member_id != member_id):
            return False
        return self.identity.use_member_token(token_hash, int(time.time()))

    # --- revocation (RFC 7009) -------------------------------------------------------------

    def revoke(self, token: str, client_id: str | None = None) -> None:
        """Revoke a refresh token (with its grant) or an access token (its grant, or for a
        visitor token without one, the visitor). Unknown tokens are ignored (RFC 7009 §2.2).

        With ``client_id`` (RFC 7009 §2.1: the server checks that the token was issued to the
        client asking), a token issued to another client is treated like an unknown one: the
        answer is the same and nothing is revoked, so a client learns nothing about other
        clients' tokens. An unknown ``client_id`` is :class:`InvalidClient`."""
        if client_id is not None:
            client_id = self._client({"client_id": client_id})
        row = self.store.refresh_token(digest(token))
        if row is not None:
            if client_id is not None and row.client_id != client_id:
                return
            self.store.revoke_refresh_token(row.token_hash, int(time.time()))
            self.store.revoke(row.family_id, _now_ms() + 1)
            return
        try:
            claims = self.keys.verify(token)
        except InvalidToken:
            return
        if client_id is not None and claims.get("client_id") != client_id:
            return
        self.store.revoke(claims.get("gid") or claims["sub"], _now_ms() + 1)

    def revoke_subject(self, subject_id: str) -> None:
        """Logout: every token of the subject issued until now dies, on every instance."""
        self.store.revoke(subject_id, _now_ms() + 1)

    # --- access tokens ---------------------------------------------------------------------

    def authenticate(self, token: str) -> Identity:
        """The identity behind a live access token, or :class:`Unauthenticated`."""
        try:
            claims = self.keys.verify(token)
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from exc
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
        if identity.grant_id:
            revoked_before = self.store.revoked_before(identity.subject_id, identity.grant_id)
        else:
            revoked_before = self.store.revoked_before(identity.subject_id)
        if revoked_before is not None and round(identity.issued_at * 1000) < revoked_before:
            raise Unauthenticated("the token was revoked")
        return identity

    def token_info(self, token: str) -> dict[str, Any]:
        """``/oauth2/token-info``: who the token belongs to, or ``{"active": false}``."""
        try:
            identity = self.authenticate(token)
        except Unauthenticated:
            return {"active": False}
        return {
            "active": True,
            "subjectType": identity.subject_type,
            "subjectId": identity.subject_id,
            "siteId": identity.site_id,
            "clientId": identity.client_id,
            "exp": int(identity.expires_at),
            "iat": int(identity.issued_at),
            "scope": identity.scope,
        }
