"""The rest of the OpenAPI document: token revocation, discovery, health, metrics, short links
and the hosted pages (HTML, marked ``x-hosted-page``: navigated to by browsers, not fetched)."""

from __future__ import annotations

from typing import Any

from ..domain.intents import INTENT_PATHS
from .openapi_parts import json_content, obj, ref

__all__ = ["HOSTED_PAGE", "JWK_SET", "site_paths"]

HOSTED_PAGE = "x-hosted-page"
_HTML = {"text/html": {"schema": {"type": "string"}}}
# Written by hand: web/health.py and web/oauth.py write these bodies as dicts, and no Struct
# declares them (a KeyRing's JWK Set is the RFC 7517 document itself).
# Both are open by their RFCs (RFC 7517 §4, RFC 8414 §2: other members may be present).
_JWK = {**obj({"kty": {"type": "string"}, "kid": {"type": "string"}}, ["kty", "kid"]), "additionalProperties": True}
JWK_SET = obj({"keys": {"type": "array", "items": _JWK}}, ["keys"])
_METADATA = {**obj({"issuer": {"type": "string"}, "token_endpoint": {"type": "string"},
                    "jwks_uri": {"type": "string"}, "response_types_supported": {"type": "array"}},
                   ["issuer", "token_endpoint", "jwks_uri", "response_types_supported"]),
             "additionalProperties": True}
_ALIVE = obj({"status": {"const": "ok"}}, ["status"])
_READY = obj({"status": {"const": "ok"}, "database": {"const": "ok"}}, ["status", "database"])
_NOT_READY = obj({"status": {"const": "unavailable"}, "database": {"const": "unreachable"}}, ["status", "database"])
_EMPTY = {"type": "object", "maxProperties": 0}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return json_content(schema or {"type": "object"}, description)


def _page(operation_id: str, summary: str, methods: tuple[str, ...] = ("get",),
          query: tuple[str, ...] = ("redirectSessionId",)) -> dict[str, Any]:
    parameters = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in query]
    responses = {"200": {"description": "the page", "content": _HTML},
                 "302": {"description": "on to a callback URL"}, "303": {"description": "after a form post"},
                 "4XX": {"description": "an error page", "content": _HTML}}
    return {m: {"operationId": f"{operation_id}{m.capitalize() if m != 'get' else ''}", "summary": summary,
                HOSTED_PAGE: True, "parameters": parameters if m == "get" else [],
                **({"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}}
                   if m == "post" else {}),
                "responses": responses} for m in methods}


def site_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/oauth2/revoke": {"post": {
            "operationId": "revoke", "summary": "Revoke a refresh or access token (RFC 7009)",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object", "properties": {"token": {"type": "string"}},
                                                "required": ["token"]}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
            "responses": {"200": _json("revoked, or unknown (RFC 7009 §2.2)", _EMPTY),
                          "400": _json("RFC 6749 §5.2 error", ref("OAuthError"))}}},
        "/.well-known/oauth-authorization-server": {"get": {
            "operationId": "metadata", "summary": "Authorization server metadata (RFC 8414)",
            "responses": {"200": _json("the metadata", _METADATA)}}},
        "/.well-known/jwks.json": {"get": {
            "operationId": "jwksWellKnown", "summary": "Public keys that verify access tokens (RFC 7517)",
            "responses": {"200": _json("the key set", JWK_SET)}}},
        "/r/{code}": {"get": {
            "operationId": "shortLink", "summary": "A session's short link",
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"302": {"description": "to the session's fullUrl"},
                          "404": {"description": "unknown link", "content": _HTML},
                          "410": {"description": "expired link", "content": _HTML}}}},
        "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness",
                             "responses": {"200": _json("alive", _ALIVE)}}},
        "/readyz": {"get": {"operationId": "readyz", "summary": "Readiness: the database answers",
                            "responses": {"200": _json("ready", _READY), "503": _json("not ready", _NOT_READY)}}},
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics",
                             "responses": {"200": {"description": "text exposition format",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                  "responses": {"200": _json("the OpenAPI document")}}},
        "/_api/oauth2/authorize": _page("authorize", "OAuth 2.0 authorize (login form, web_message answer)",
                                        ("get", "post"), ("redirectSessionId", "client_id", "response_type",
                                                          "redirect_uri", "scope", "state", "response_mode",
                                                          "code_challenge", "code_challenge_method", "prompt")),
        "/account/reset-password": _page("resetPassword", "The hosted password-reset page", ("get", "post"),
                                         ("token", "lang")),
        "/flow/thank-you": _page("thankYou", "The hosted thank-you page"),
        "/flow/sign-in": _page("flowSignIn", "Logging in during a flow", ("get", "post")),
        "/flow/logout": _page("logoutPage", "The logout intent"),
    }
    # The authorization response (RFC 6749 §4.1.2) goes back as the redirect URI's query (or
    # fragment, or a web_message), so it is no body: its parameters are the Struct's fields.
    for operation in paths["/_api/oauth2/authorize"].values():
        operation["responses"]["302"] = operation["responses"]["303"] = {
            "description": "the authorization response, in the redirect URI's query or fragment",
            "x-authorization-response": ref("AuthorizationResponse")}
    # Every other intent's hosted page, from the catalogue (a form: GET shows it, POST submits it).
    for intent, path in sorted(INTENT_PATHS.items()):
        if path.startswith("/flow/") and path not in paths:
            paths[path] = _page(f"{intent}Page", f"The hosted page of the {intent} intent", ("get", "post"))
    return paths
