"""The identity routes' part of the OpenAPI document (SPEC §11); the answers' schemas are
generated (``openapi_results``), the request bodies written here."""

from __future__ import annotations

from typing import Any

from .openapi_parts import json_content, obj, ref

__all__ = ["identity_paths"]

_TEXT = {"type": "string"}
_LOGIN_ID = obj({"email": {"type": "string", "maxLength": 320}}, ["email"])


def _operation(operation_id: str, summary: str, body: dict[str, Any] | None, ok: dict[str, Any],
               security: list[dict[str, list[str]]], errors: dict[str, str]) -> dict[str, Any]:
    """``errors``: status → description; register's 400 is a validationError, the rest are
    applicationErrors."""
    responses = {status: json_content(ref("ValidationError" if (operation_id, status) == ("register", "400")
                                    else "ApplicationError"), text) for status, text in errors.items()}
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "security": security,
                                 "responses": {"200": ok, **responses}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def identity_paths() -> dict[str, Any]:
    token: list[dict[str, list[str]]] = [{"accessToken": []}]
    state = json_content(ref("StateMachineResponse"), "the member's state")
    base = "/_api/iam/authentication/v2"
    return {
        f"{base}/register": {"post": _operation(
            "register", "Sign a member up (the registration policy decides the state)",
            obj({"loginId": _LOGIN_ID, "password": _TEXT, "profile": obj({"nickname": _TEXT}),
                  "captchaTokens": {"type": "array"}}, ["loginId", "password"]),
            state, token, {"400": "invalid email (data.type EMAIL) or password", "401": "no visitor token",
                           "409": "code -19995: the email exists"})},
        f"{base}/login": {"post": _operation(
            "login", "Log a member in with email and password",
            obj({"loginId": _LOGIN_ID, "password": _TEXT}, ["loginId", "password"]),
            state, token, {"400": "code -19973: the password must be reset", "401": "code -19976: wrong email "
                           "or password (the same for an unknown email)", "403": "the member is blocked",
                           "429": "too many failed logins (Retry-After)"})},
        f"{base}/sign-on": {"post": _operation(
            "signOn", "A trusted backend logs a member in by email (API key with SCOPE.IAM.SIGN-ON)",
            obj({"loginId": _LOGIN_ID, "profile": obj({"nickname": _TEXT}), "verifyEmail": {"type": "boolean"},
                  "mergeExistingContact": {"type": "boolean"}}, ["loginId"]),
            json_content(ref("SignOnResponse"), "a session token"),
            [{"backendKey": []}], {"401": "no valid API key", "403": "the key lacks the sign-on scope"})},
        "/_api/iam/verification/v1/auth/verify": {"post": _operation(
            "verify", "Verify an email with the emailed 6-digit code",
            obj({"code": _TEXT, "stateToken": _TEXT}, ["code", "stateToken"]),
            state, [], {"400": "wrong code (5 tries) or a dead state token"})},
        "/_api/iam/recovery/v1/send-email": {"post": _operation(
            "sendRecoveryEmail", "Email a password-reset link (always {}: no account enumeration)",
            obj({"email": _TEXT, "redirect": obj({"url": _TEXT, "clientId": _TEXT})}, ["email"]),
            json_content(obj({}), "done"), token, {"401": "neither a visitor token nor redirect.clientId"})},
        "/_api/iam/recovery/v1/recover": {"post": _operation(
            "recover", "Set a new password with a recovery token",
            obj({"recoveryToken": _TEXT, "password": _TEXT}, ["recoveryToken", "password"]),
            state, [], {"400": "a dead recovery token, or a short password"})},
        "/members/v1/members/my": {"get": _operation(
            "getCurrentMember", "The member behind a member access token", None,
            json_content(ref("CurrentMember"), "the member"), token,
            {"401": "no valid access token", "403": "a visitor token", "404": "the member was deleted"})},
    }
