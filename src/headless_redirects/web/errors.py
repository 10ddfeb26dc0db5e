"""One place that turns errors into responses: the documented API error bodies (SPEC §3),
RFC 6749 bodies on the token endpoints, and HTML pages on the hosted site."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import (
    DomainError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from ..domain.oauth_errors import OAuthError
from .responses import json_response

__all__ = ["application_error", "exception_handlers", "is_api_path"]

log = logging.getLogger("headless_redirects.errors")

_STATUS = {
    ValidationFailed: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    PayloadTooLarge: 413,
}
_HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
}
_API_PREFIXES = ("/_api/", "/oauth2/", "/redirect-session/", "/headless/", "/.well-known/")
_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def is_api_path(path: str) -> bool:
    return path.startswith(_API_PREFIXES) and not path.startswith("/_api/oauth2/authorize")


def application_error(status: int, code: str, description: str) -> Response:
    body = {
        "message": description,
        "details": {"applicationError": {"code": code, "description": description, "data": {}}},
    }
    return json_response(body, status)


def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = _STATUS.get(type(exc), 400)
    if isinstance(exc, ValidationFailed):
        body: dict[str, Any] = {
            "message": exc.description,
            "details": {"validationError": {"fieldViolations": [v.to_wire() for v in exc.violations]}},
        }
        return json_response(body, status)
    if not is_api_path(request.url.path):
        from .pages import render_message

        return render_message(request, status, "error", exc.description)
    return application_error(status, exc.code, exc.description)


def _oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    headers = dict(_NO_STORE)
    if exc.status_code == 401:
        headers["www-authenticate"] = 'Bearer error="invalid_client"'
    return json_response(exc.to_wire(), exc.status_code, headers)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if is_api_path(request.url.path):
        code = _HTTP_CODES.get(exc.status_code, "INVALID_ARGUMENT")
        response = application_error(exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    from .pages import render_message

    return render_message(request, exc.status_code, "not_found" if exc.status_code == 404 else "error",
                          str(exc.detail))


def _server_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id")
    log.exception("unhandled error", extra={"request_id": request_id})
    description = "internal error; quote the x-wix-request-id header when reporting it"
    if is_api_path(request.url.path):
        return application_error(500, "INTERNAL", description)
    from .pages import render_message

    return render_message(request, 500, "error", description)


exception_handlers: dict[Any, Any] = {
    DomainError: _domain_error,
    OAuthError: _oauth_error,
    HTTPException: _http_error,
    Exception: _server_error,
}
