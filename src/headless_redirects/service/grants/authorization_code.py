"""The ``authorization_code`` grant (RFC 6749 §4.1) with PKCE (RFC 7636), required for every
code (RFC 9700 §2.1.1); only S256 and S512 challenges are accepted (``domain.pkce``).

    The client MUST NOT use the authorization code more than once. If an authorization code is
    used more than once, the authorization server MUST deny the request and SHOULD revoke (when
    possible) all tokens previously issued based on that authorization code. (§4.1.2)
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from ...domain.oauth_errors import InvalidGrant, InvalidRequest
from ...domain.pkce import PkceError
from ...domain.pkce import verify as verify_pkce
from ...domain.sessions import new_guid
from ...storage.identity import AuthorizationCodeRow
from ..secrets import new_ordered_secret, ordered_digest
from .base import MEMBER, Grant, Issued, new_refresh_token, now_ms

__all__ = ["AuthorizationCodeGrant", "code_key", "new_code", "new_code_row"]

_CODE = "hrc_"


def new_code() -> str:
    """A new single-use code: 256 random bits after its issue time (``secrets.new_ordered_secret``).
    Codes are redeemed within seconds of their issue, in about the order they were issued, so
    under time-ordered keys a redemption's update lands on a page the last ones dirtied. Measured
    (wrk, 64 connections, 20 s of exchanges at ≈ 1,900 a second, twice each): the WAL reached the
    checkpointer's threshold (then a TRUNCATE) 11-12 times with random keys, 5-6 times with these;
    each holds the writes for a moment (25-37 ms then, see ``storage.database``)."""
    return new_ordered_secret(_CODE)


def code_key(code: str) -> str:
    """The stored form (the primary key) of an authorization code."""
    return ordered_digest(code, _CODE)


def new_code_row(*, site_id: str, client_id: str, member_id: str, params: dict[str, Any],
                 ttl: int) -> tuple[str, AuthorizationCodeRow]:
    """A new single-use code and the row that stores it (its digest, never the code), for an
    authorize request's parameters (lowerCamelCase, as the redirect session keeps them)."""
    code = new_code()
    now = int(time.time())
    return code, AuthorizationCodeRow(
        code_hash=code_key(code),
        site_id=site_id,
        client_id=client_id,
        member_id=member_id,
        redirect_uri=params.get("redirectUri"),
        scope=params.get("scope") or "",
        code_challenge=params.get("codeChallenge"),
        code_challenge_method=params.get("codeChallengeMethod"),
        nonce=params.get("nonce"),
        created_at=now,
        expires_at=now + ttl,
    )


class AuthorizationCodeGrant(Grant):
    GRANT_TYPE = "authorization_code"

    def create_token_response(self, params: dict[str, str], authorization: str | None,
                              acting: MutableMapping[str, Any] | None) -> Issued:
        return self.redeem(self.issuer.acting_client(params, acting), params)

    def redeem(self, client_id: str, params: dict[str, str]) -> Issued:
        """The access token (and, for ``offline_access``, a refresh token) a code grants (§4.1.3)."""
        issuer, identity, store = self.issuer, self.issuer.identity, self.issuer.store
        code = params.get("code")
        if not code:
            raise InvalidRequest("code is required")
        found = identity.code_and_member_status(code_key(code))  # the exchange's one read
        if found is None or found[0].client_id != client_id:
            raise InvalidGrant("the code is invalid or was issued to another client")
        row, member_status = found
        if row.redeemed_at is not None:
            if row.grant_id:
                store.tokens.revoke(row.grant_id, now_ms() + 1)
            raise InvalidGrant("the code was already used; the tokens it issued are revoked")
        if row.expires_at <= time.time():
            raise InvalidGrant("the code has expired")
        if member_status != "APPROVED":
            raise InvalidGrant("the member was blocked or deleted after the code was issued")
        if (params.get("redirect_uri") or None) != row.redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request")
        try:
            verify_pkce(params.get("code_verifier"), row.code_challenge, row.code_challenge_method)
        except PkceError as exc:
            raise InvalidGrant(str(exc)) from None
        grant_id = new_guid()
        offline = "offline_access" in row.scope.split()
        refresh_token = new_refresh_token() if offline else None
        also = []
        if refresh_token is not None:
            also.append(store.tokens.insert_refresh_step(issuer.refresh_row(
                refresh_token, MEMBER, row.member_id, row.site_id, client_id, row.scope, grant_id)))
        # The redemption and the refresh token it issues commit together, or not at all.
        if not identity.redeem_code(row.code_hash, grant_id, int(time.time()), *also):
            raced = identity.code(row.code_hash)
            if raced is not None and raced.grant_id:
                store.tokens.revoke(raced.grant_id, now_ms() + 1)
            raise InvalidGrant("the code was already used; the tokens it issued are revoked")
        return issuer.prepare(MEMBER, row.member_id, row.site_id, client_id, row.scope, grant_id=grant_id,
                            refresh_token=refresh_token)
