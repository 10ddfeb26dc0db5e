"""The token endpoint's grants, one module each, as authlib lays out RFC 6749's:

- ``anonymous``: a new visitor (SPEC §4; an extension grant, RFC 6749 §4.5)
- ``refresh_token``: RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2)
- ``authorization_code``: RFC 6749 §4.1 with PKCE (RFC 7636), and the codes it redeems
- ``authorized_client``: a trusted backend's member tokens (SPEC §11)

Each grant takes the request's parameters, stores what it must and returns what it issued
(:class:`Issued`, the access token's claims still to be signed: ``TokenIssuer.sign`` makes the
:class:`TokenResponse`); ``base`` holds what they share. ``service.tokens.TokenService`` picks
the grant by ``grant_type``.
"""

from __future__ import annotations

from .anonymous import AnonymousGrant
from .authorization_code import AuthorizationCodeGrant
from .authorized_client import SIGN_ON_SCOPE, AuthorizedClientGrant
from .base import MEMBER, VISITOR, Grant, Identity, Issued, TokenIssuer, TokenResponse, act_for
from .refresh_token import RefreshTokenGrant

__all__ = ["MEMBER", "SIGN_ON_SCOPE", "VISITOR", "AnonymousGrant", "AuthorizationCodeGrant", "AuthorizedClientGrant",
           "Grant", "Identity", "Issued", "RefreshTokenGrant", "TokenIssuer", "TokenResponse", "act_for"]
