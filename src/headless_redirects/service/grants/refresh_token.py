"""The ``refresh_token`` grant (RFC 6749 §6).

    If valid and authorized, the authorization server issues an access token [...]. The
    authorization server MAY issue a new refresh token, in which case the client MUST discard
    the old refresh token and replace it with the new refresh token.

The official SDK keeps its refresh token after a refresh, so by default the token stays valid
and no new one is issued; with ``strict_refresh_rotation`` every refresh rotates it, and a
rotated token that comes back revokes its whole family (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from ...domain.oauth_errors import InvalidGrant, InvalidRequest
from .base import Grant, Issued, act_for, new_refresh_token, now_ms, refresh_key

__all__ = ["RefreshTokenGrant"]


class RefreshTokenGrant(Grant):
    GRANT_TYPE = "refresh_token"

    def create_token_response(self, params: dict[str, str], authorization: str | None,
                              acting: MutableMapping[str, Any] | None) -> Issued:
        token = params.get("refresh_token")
        if not token:
            raise InvalidRequest("refresh_token is required")
        # The official SDK's SiteSessionAuth sends no clientId: the app is the token's.
        client_id = self.issuer.client(params) if params.get("client_id") else None
        return self.refresh(client_id, token, acting)

    def refresh(self, client_id: str | None, refresh_token: str,
                acting: MutableMapping[str, Any] | None = None) -> Issued:
        store = self.issuer.store
        now = int(time.time())
        found = store.tokens.refresh_token_and_revocation(refresh_key(refresh_token))
        if found is None or (client_id is not None and found[0].client_id != client_id):
            raise InvalidGrant("the refresh token is invalid or was issued to another client")
        row, revoked_before = found
        client_id = row.client_id
        act_for(acting, client_id=client_id)
        if row.revoked_at is not None:
            raise InvalidGrant("the refresh token was revoked")
        if row.expires_at <= now:
            raise InvalidGrant("the refresh token has expired")
        if revoked_before is not None and row.issued_at_ms < revoked_before:
            raise InvalidGrant("the refresh token was revoked")
        if not self.issuer.settings.strict_refresh_rotation:
            return self.issuer.prepare(row.subject_type, row.subject_id, row.site_id, client_id, row.scope,
                                     grant_id=row.family_id)
        if row.rotated_at is not None:
            # RFC 9700 §4.14.2: a rotated token came back, so one of its holders is an attacker.
            store.tokens.revoke(row.family_id, now_ms() + 1)
            raise InvalidGrant("the refresh token was already used; its family is revoked")
        new_token = new_refresh_token()
        new_row = self.issuer.refresh_row(new_token, row.subject_type, row.subject_id, row.site_id,
                                          client_id, row.scope, row.family_id)
        if not store.tokens.rotate_refresh_token(row.token_hash, new_row, now):
            store.tokens.revoke(row.family_id, now_ms() + 1)
            raise InvalidGrant("the refresh token was already used; its family is revoked")
        return self.issuer.prepare(row.subject_type, row.subject_id, row.site_id, client_id, row.scope,
                                 grant_id=row.family_id, refresh_token=new_token)
