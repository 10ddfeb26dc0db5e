"""The OAuth 2.0 token service endpoints (SPEC §4). ``POST /oauth2/token`` itself is on the hot
path (``web.hotpath``); this module parses its parameters and writes its body for it.

The token service answers with Structs (``service.tokens``); their wire form is written here:
a :class:`TokenResponse` as RFC 6749 §5.1's snake_case members, a :class:`TokenInfo` as SPEC §4's
lowerCamelCase ones."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.oauth_errors import InvalidRequest
from ..domain.pkce import METHODS as PKCE_METHODS
from ..service.tokens import TokenInfo, TokenResponse
from .responses import json_response, read_body
from .services import services_of

__all__ = ["NO_STORE", "routes", "token_body", "token_info_wire", "token_params"]

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
# The official SDK sends lowerCamelCase JSON; RFC 6749 clients send snake_case forms.
_NAMES = {
    "grantType": "grant_type",
    "clientId": "client_id",
    "refreshToken": "refresh_token",
    "codeVerifier": "code_verifier",
    "redirectUri": "redirect_uri",
}


def token_params(body: bytes, content_type: str) -> dict[str, str]:
    """The token request's parameters by their RFC 6749 names, from a form or a JSON body."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError):
            raise InvalidRequest("the form body is malformed") from None
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            raise InvalidRequest("a parameter is repeated (RFC 6749 §3.2)")
        return dict(pairs)
    try:
        raw: Any = msgspec.json.decode(body) if body.strip() else {}
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest("the body is neither a form nor valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("the JSON body must be an object")
    params: dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            continue
        name = _NAMES.get(key) or str(key)
        if not isinstance(value, str):
            raise InvalidRequest(f"{name} must be a string")
        params.setdefault(name, value)
    return params


_encode = msgspec.json.Encoder().encode


def token_body(result: TokenResponse) -> bytes:
    """``POST /oauth2/token``'s body. The Struct's fields are RFC 6749 §5.1's member names in
    their order, and a refresh token not issued is left out (``omit_defaults``), so msgspec
    writes the body from the Struct itself, with no dict in between (the hot path)."""
    return _encode(result)


def token_info_wire(info: TokenInfo) -> dict[str, Any]:
    """``/oauth2/token-info``'s body: ``{"active": false}`` alone for a token that is not live."""
    if not info.active:
        return {"active": False}
    return {
        "active": True,
        "subjectType": info.subject_type,
        "subjectId": info.subject_id,
        "siteId": info.site_id,
        "clientId": info.client_id,
        "exp": info.expires_at,
        "iat": info.issued_at,
        "scope": info.scope,
    }


async def _params(request: Request) -> dict[str, str]:
    body = await read_body(request, services_of(request).settings.max_body_bytes)
    return token_params(body, request.headers.get("content-type", ""))


async def token_info(request: Request) -> Response:
    services = services_of(request)
    params = await _params(request)
    value = params.get("token")
    if not value:
        raise InvalidRequest("token is required")
    info = await services.db.read(services.tokens.token_info, value)
    return json_response(token_info_wire(info), headers=NO_STORE)


async def revoke(request: Request) -> Response:
    """RFC 7009: always 200 once the request is well formed, whether or not the token existed;
    with a ``client_id``, only a token issued to that client is revoked."""
    services = services_of(request)
    params = await _params(request)
    value = params.get("token")
    if not value:
        raise InvalidRequest("token is required")
    await services.db.run(services.tokens.revoke, value, params.get("client_id") or None)
    return json_response({}, headers=NO_STORE)


async def metadata(request: Request) -> Response:
    """RFC 8414 authorization server metadata."""
    services = services_of(request)
    base = services.settings.public_url.rstrip("/")
    return json_response({
        "issuer": services.keys.issuer,
        "authorization_endpoint": f"{base}/_api/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/token",
        "revocation_endpoint": f"{base}/oauth2/revoke",
        "jwks_uri": f"{base}/oauth2/jwks",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "web_message"],
        "grant_types_supported": ["authorization_code", "refresh_token", "anonymous"],
        "code_challenge_methods_supported": list(PKCE_METHODS),
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["offline_access"],
        "prompt_values_supported": ["login", "none"],
    }, headers={"cache-control": "max-age=300"})


async def jwks(request: Request) -> Response:
    # KeyRing.jwks() is the RFC 7517 §5 JWK Set document itself (stored public JWKs), not a result.
    return json_response(services_of(request).keys.jwks(), headers={"cache-control": "max-age=300"})


def routes() -> list[Route]:
    return [
        Route("/oauth2/token-info", token_info, methods=["POST"]),
        Route("/oauth2/revoke", revoke, methods=["POST"]),
        Route("/oauth2/jwks", jwks, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    ]
