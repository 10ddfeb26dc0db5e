"""The OpenAPI 3.1 document of the API, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from ..domain.catalogue import CALLBACK_FIELDS, CATALOGUE
from .hotpath import SESSION_ROUTES
from .openapi_identity import identity_paths, identity_schemas
from .openapi_intents import intent_schemas
from .openapi_outcomes import IDEMPOTENCY_KEY, outcome_paths, outcome_schemas
from .openapi_parts import json_content, obj, ref
from .openapi_site import site_paths
from .responses import json_response

__all__ = ["document", "routes"]

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

_RESPONSE = obj({"redirectSession": obj({
    "id": _GUID,
    "fullUrl": {"type": "string", "maxLength": 2048},
    "urlDetails": obj({"endpoint": {"type": "string"},
                        "searchParams": {"type": "object", "additionalProperties": {"type": "string"}}}),
    "sessionToken": {"type": "string"},
    "shortUrl": {"type": "string"},
}, ["id", "fullUrl", "urlDetails", "shortUrl"])}, ["redirectSession"])

_VALIDATION_ERROR = obj({
    "message": {"type": "string"},
    "details": obj({"validationError": obj({"fieldViolations": {"type": "array", "items": obj({
        "field": {"type": "string"},
        "description": {"type": "string"},
        "violatedRule": {"type": "string"},
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

_OAUTH_ERROR = obj({"error": {"type": "string"}, "error_description": {"type": "string"}}, ["error"])

_TOKEN_REQUEST = obj({
    "grant_type": {"enum": ["anonymous", "refresh_token", "authorization_code"]},
    "client_id": _GUID,
    "refresh_token": {"type": "string"},
    "code": {"type": "string"},
    "code_verifier": {"type": "string"},
    "redirect_uri": {"type": "string"},
}, ["grant_type"])
_TOKEN_REQUEST["description"] = "RFC 6749 names; the JSON body also accepts grantType, clientId, refreshToken, ..."

_TOKEN_RESPONSE = obj({
    "access_token": {"type": "string"},
    "token_type": {"enum": ["Bearer"]},
    "expires_in": {"type": "integer"},
    "refresh_token": {"type": "string"},
    "scope": {"type": "string"},
}, ["access_token", "token_type", "expires_in"])



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
    ok = json_content(ref("CreateRedirectSessionResponse"), "the session")
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
        "summary": "Issue tokens (anonymous, refresh_token and authorization_code grants)",
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
            "200": json_content(obj({
                "active": {"type": "boolean"},
                "subjectType": {"enum": ["VISITOR", "MEMBER"]},
                "subjectId": {"type": "string"},
                "siteId": {"type": "string"},
                "clientId": {"type": "string"},
                "exp": {"type": "integer"},
                "iat": {"type": "integer"},
                "scope": {"type": "string"},
            }, ["active"]), "token information; {active: false} for a dead token"),
            "400": json_content(ref("OAuthError"), "RFC 6749 §5.2 error"),
        },
    }}
    paths["/oauth2/jwks"] = {"get": {
        "operationId": "jwks",
        "summary": "Public keys that verify access tokens (RFC 7517)",
        "responses": {"200": json_content(obj({"keys": {"type": "array", "items": {"type": "object"}}}, ["keys"]),
                                   "the key set")},
    }}
    paths.update(identity_paths())
    paths.update(outcome_paths())
    paths.update(site_paths())
    schemas = {
        **identity_schemas(),
        **outcome_schemas(),
        "CreateRedirectSessionRequest": _REQUEST,
        "CreateRedirectSessionResponse": _RESPONSE,
        "ValidationError": _VALIDATION_ERROR,
        "ApplicationError": _APPLICATION_ERROR,
        "OAuthError": _OAUTH_ERROR,
        "TokenRequest": _TOKEN_REQUEST,
        "TokenResponse": _TOKEN_RESPONSE,
        **_INTENTS,
    }
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
