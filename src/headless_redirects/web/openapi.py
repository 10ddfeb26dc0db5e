"""The OpenAPI 3.1 document of the API, served at ``/openapi.json``.

Generated where a declaration exists: the intents' request schemas from the intent catalogue
(``openapi_intents``), every JSON answer's schema from the service's msgspec Struct
(``openapi_results``), the grant types from the token service's grants, the OAuth error codes
from ``domain.oauth_errors``. Written here by hand: operations (paths, status codes, security)
and the bodies no Struct declares (the error bodies of ``web.errors``, RFC 8414 metadata, JWKS).
"""

from __future__ import annotations

from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from ..domain.catalogue import CALLBACK_FIELDS, CATALOGUE
from ..domain.errors import Rule
from ..domain.oauth_errors import OAuthError
from ..service.grants import Grant
from .hotpath import SESSION_ROUTES
from .openapi_identity import identity_paths
from .openapi_intents import intent_schemas
from .openapi_outcomes import IDEMPOTENCY_KEY, outcome_paths
from .openapi_parts import json_content, obj, ref
from .openapi_results import result_schemas
from .openapi_site import JWK_SET, site_paths
from .responses import json_response

__all__ = ["document", "routes"]

_T = TypeVar("_T")
_GUID = {"type": "string", "format": "uuid"}
_INTENTS = intent_schemas(CATALOGUE)

_REQUEST = obj({
    **{name: ref(f"Intent_{name}") for name in CATALOGUE.names},
    "callbacks": obj({name: {"type": "string", "format": "uri", "maxLength": 2048} for name in CALLBACK_FIELDS}),
    "preferences": obj({
        "useGenericWixPages": {"type": "boolean", "default": True},
        "maintainIdentity": {"type": "boolean", "default": True},
        "additionalQueryParameters": {"type": "object", "maxProperties": 50,
                                      "additionalProperties": {"type": "string"}},
        "checkIfPublish": {"type": "boolean", "default": False},
    }),
    "origin": {"type": "string", "maxLength": 2048},
})
_REQUEST["description"] = (
    "Exactly one intent. Field names are lowerCamelCase; snake_case is accepted too. "
    "Unknown fields are ignored."
)
_REQUEST["minProperties"] = 1

_VALIDATION_ERROR = obj({
    "message": {"type": "string"},
    "details": obj({"validationError": obj({"fieldViolations": {"type": "array", "items": obj({
        "field": {"type": "string"},
        "description": {"type": "string"},
        "violatedRule": {"enum": sorted(v for k, v in vars(Rule).items() if k.isupper())},
        "data": {"type": "object"},
    }, ["field", "description", "violatedRule", "data"])}}, ["fieldViolations"])}, ["validationError"]),
}, ["message", "details"])

_APPLICATION_ERROR = obj({
    "message": {"type": "string"},
    "details": obj({"applicationError": obj({
        "code": {"type": "string"},
        "description": {"type": "string"},
        "data": {"type": "object"},
    }, ["code", "description", "data"])}, ["applicationError"]),
}, ["message", "details"])


def _subclasses(cls: type[_T]) -> list[type[_T]]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


# RFC 6749 §5.2 codes: one class each in domain.oauth_errors (``OAuthError.to_wire``'s body).
_OAUTH_ERROR = obj({"error": {"enum": sorted({OAuthError.error, *(c.error for c in _subclasses(OAuthError))})},
                    "error_description": {"type": "string"}}, ["error"])

_TOKEN_REQUEST = obj({
    "grant_type": {"enum": sorted(g.GRANT_TYPE for g in _subclasses(Grant))},
    "client_id": _GUID,
    "refresh_token": {"type": "string"},
    "code": {"type": "string"},
    "code_verifier": {"type": "string"},
    "redirect_uri": {"type": "string"},
    "scope": {"type": "string"},
    "member_id": {"type": "string", "description": "authorized_client: the member to issue tokens for"},
}, ["grant_type"])
_TOKEN_REQUEST["description"] = "RFC 6749 names; the JSON body also accepts grantType, clientId, refreshToken, ..."



def _request_id() -> dict[str, Any]:
    return {"x-wix-request-id": {"schema": {"type": "string"}, "description": "id of this request"}}


def _create_session_operation(operation_id: str) -> dict[str, Any]:
    errors = {
        "400": json_content(ref("ValidationError"), "invalid request; every violation is listed"),
        "401": json_content(ref("ApplicationError"), "missing or invalid credentials"),
        "403": json_content(ref("ApplicationError"), "credentials not allowed for this site"),
        "409": json_content(ref("ApplicationError"), "IDEMPOTENCY_KEY_IN_USE: the first request is still running"),
        "413": json_content(ref("ApplicationError"), "body over 64 KiB"),
        "422": json_content(ref("ApplicationError"), "IDEMPOTENCY_KEY_REUSED: the key was used with another body"),
    }
    ok = json_content(ref("CreateResponse"), "the session")
    ok["headers"] = _request_id()
    return {
        "operationId": operation_id,
        "summary": "Create a redirect session",
        "security": [{"accessToken": []}, {"apiKey": [], "siteId": []}],
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": ref("CreateRedirectSessionRequest")}}},
        "responses": {"200": ok, **errors},
    }


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for index, path in enumerate(SESSION_ROUTES):
        paths[path] = {"post": _create_session_operation(f"createRedirectSession{index or ''}")}
    paths["/oauth2/token"] = {"post": {
        "operationId": "token",
        "summary": "Issue tokens (RFC 6749 §4; the anonymous and authorized_client grants are ours)",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": ref("TokenRequest")},
            "application/x-www-form-urlencoded": {"schema": ref("TokenRequest")},
        }},
        "responses": {
            "200": json_content(ref("TokenResponse"), "tokens"),
            "400": json_content(ref("OAuthError"), "RFC 6749 §5.2 error"),
            "401": json_content(ref("OAuthError"), "invalid_client"),
            "413": json_content(ref("ApplicationError"), "body over 64 KiB"),
        },
    }}
    paths["/oauth2/token-info"] = {"post": {
        "operationId": "tokenInfo",
        "summary": "Who a token belongs to",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": obj({"token": {"type": "string"}}, ["token"])}}},
        "responses": {
            "200": json_content(ref("TokenInfo"), "token information; {active: false} alone for a dead token"),
            "400": json_content(ref("OAuthError"), "RFC 6749 §5.2 error"),
        },
    }}
    paths["/oauth2/jwks"] = {"get": {
        "operationId": "jwks",
        "summary": "Public keys that verify access tokens (RFC 7517)",
        "responses": {"200": json_content(JWK_SET, "the key set")},
    }}
    paths.update(identity_paths())
    paths.update(outcome_paths())
    paths.update(site_paths())
    written = {
        "CreateRedirectSessionRequest": _REQUEST,
        "ValidationError": _VALIDATION_ERROR,
        "ApplicationError": _APPLICATION_ERROR,
        "OAuthError": _OAUTH_ERROR,
        "TokenRequest": _TOKEN_REQUEST,
        **_INTENTS,
    }
    generated = result_schemas()
    clash = written.keys() & generated.keys()
    if clash:  # two schemas under one name: one would hide the other
        raise RuntimeError(f"component schemas declared twice: {sorted(clash)}")
    schemas = {**generated, **written}
    return {
        "openapi": "3.1.0",
        "info": {"title": "headless-redirects", "version": __version__,
                 "description": "Redirect sessions and the OAuth 2.0 token service."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "accessToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                                "description": "an access token from /oauth2/token, raw or 'Bearer <token>'"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                           "description": "an API key with scope SCOPE.PROMOTE.VIEW-SEO"},
                "siteId": {"type": "apiKey", "in": "header", "name": "wix-site-id"},
                "backendKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                               "description": "'<access token or nothing>,<API key with SCOPE.IAM.SIGN-ON>'"},
            },
        },
    }


_DOCUMENT = document()


async def openapi(_request: Request) -> Response:
    return json_response(_DOCUMENT)


def routes() -> list[Route]:
    return [Route("/openapi.json", openapi, methods=["GET"])]
