"""The session API's part of the OpenAPI document (SPEC §12), and the Idempotency-Key header of
create session."""

from __future__ import annotations

from typing import Any

from ..domain.lifecycle import PUBLIC_STATES
from .openapi_parts import json_content, ref

__all__ = ["IDEMPOTENCY_KEY", "outcome_paths"]

_TEXT = {"type": "string"}
_DATE = {"type": "string", "format": "date-time"}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "the same key and body from the same caller within 24 h return the first answer again "
                   "(idempotent-replayed: true); another body: 422; still in flight: 409",
}



def outcome_paths() -> dict[str, Any]:
    security: list[dict[str, list[str]]] = [{"accessToken": []}, {"apiKey": [], "siteId": []}]
    one = json_content(ref("SessionEnvelope"), "the session")
    session_id = {"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}
    errors = {"401": json_content(ref("ApplicationError"), "missing or invalid credentials"),
              "404": json_content(ref("ApplicationError"), "no such session, or not the caller's")}
    query = [
        {"name": "state", "in": "query", "required": False, "schema": {"enum": list(PUBLIC_STATES)}},
        {"name": "intent", "in": "query", "required": False, "schema": _TEXT},
        {"name": "createdFrom", "in": "query", "required": False, "schema": _DATE},
        {"name": "createdTo", "in": "query", "required": False, "schema": _DATE},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        {"name": "cursor", "in": "query", "required": False, "schema": _TEXT},
    ]
    base = "/_api/redirects-api/v1"
    return {
        f"{base}/redirect-session/{{session_id}}": {"get": {
            "operationId": "getRedirectSession", "summary": "A session, its state and outcome", "security": security,
            "parameters": [session_id], "responses": {"200": one, **errors}}},
        f"{base}/redirect-session/{{session_id}}/expire": {"post": {
            "operationId": "expireRedirectSession", "summary": "End a session now: its URL shows the expired page",
            "security": security, "parameters": [session_id],
            "responses": {"200": one, **errors,
                          "409": json_content(ref("ApplicationError"),
                                              "the session is already completed or abandoned")}}},
        f"{base}/redirect-sessions": {"get": {
            "operationId": "listRedirectSessions", "summary": "Sessions, newest first", "security": security,
            "parameters": query,
            "responses": {"200": json_content(ref("SessionsPage"), "a page"),
                          "400": json_content(ref("ValidationError"), "a bad filter"), **errors}}},
    }
