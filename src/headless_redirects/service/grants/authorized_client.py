"""Trusted backends (SPEC §11): a site's own server, holding an API key with the sign-on scope,
gets a member's tokens with the ``authorized_client`` grant (an extension grant, RFC 6749
§4.5), and logs members in by email through the identity API's sign-on.

The backend's credential is ``Authorization: <access token>,<API key>``; the token part may be
empty, and when it is a live token of the key's site, the member's tokens are for its app.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import Any

from ...domain.errors import Unauthenticated
from ...domain.fields import is_guid
from ...domain.oauth_errors import InvalidClient, InvalidGrant, InvalidRequest, UnauthorizedClient
from ..secrets import digest
from .base import MEMBER, Grant, Identity, Issued, TokenIssuer, act_for

__all__ = ["SIGN_ON_SCOPE", "AuthorizedClientGrant"]

# The API-key scope that lets a site's backend log members in (sign-on, authorized_client).
# Never granted by default: ``headless-redirects keys create --scope SCOPE.IAM.SIGN-ON``.
SIGN_ON_SCOPE = "SCOPE.IAM.SIGN-ON"


class AuthorizedClientGrant(Grant):
    GRANT_TYPE = "authorized_client"

    def __init__(self, issuer: TokenIssuer, authenticate: Callable[[str], Identity]) -> None:
        super().__init__(issuer)
        self.authenticate = authenticate

    def site_of_backend(self, authorization: str | None) -> tuple[str, Identity | None]:
        """A trusted backend's ``Authorization: <access token>,<API key>`` (the token part may be
        empty): the API key's site, if the key has the sign-on scope, and the token's identity."""
        token_part, _, key_part = (authorization or "").strip().rpartition(",")
        key_part = key_part.strip()
        if key_part[:7].lower() == "bearer ":
            key_part = key_part[7:].strip()
        key = self.issuer.tenants.api_key(digest(key_part)) if key_part else None
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

    def create_token_response(self, params: dict[str, str], authorization: str | None,
                              acting: MutableMapping[str, Any] | None) -> Issued:
        """Member tokens for a member a trusted backend names (``member_id``; with
        ``session_token`` from sign-on, that token is spent)."""
        identity = self.issuer.identity
        site_id, caller = self.site_of_backend(authorization)
        act_for(acting, site_id=site_id)
        member_id = (params.get("member_id") or "").lower()
        if not member_id:
            raise InvalidRequest("member_id is required")
        member = identity.get_member(member_id) if is_guid(member_id) else None
        if member is None or member.site_id != site_id or member.status != "APPROVED":
            raise InvalidGrant("no active member with this member_id on the API key's site")
        session_token = params.get("session_token")
        if session_token and not self._spend_session_token(digest(session_token), site_id, member_id):
            raise InvalidGrant("the session token is invalid, used, expired or another member's")
        tenant = self.issuer.tenants.tenant(site_id)
        if caller is not None:
            client_id = caller.client_id
        elif tenant is not None and tenant.apps:
            client_id = min(tenant.apps.values(), key=lambda a: (a.created_at, a.client_id)).client_id
        else:
            raise InvalidGrant("the site has no OAuth app to issue tokens for")
        identity.update_member(member_id, last_login_at=int(time.time()))
        return self.issuer.prepare(MEMBER, member_id, site_id, client_id, params.get("scope") or "", refresh=True)

    def _spend_session_token(self, token_hash: str, site_id: str, member_id: str) -> bool:
        identity = self.issuer.identity
        row = identity.member_token(token_hash)
        if (row is None or row.kind != "session" or row.used_at is not None or row.expires_at <= time.time()
                or row.site_id != site_id or row.member_id != member_id):
            return False
        return identity.use_member_token(token_hash, int(time.time()))
