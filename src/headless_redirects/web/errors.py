"""One place that turns errors into responses: the documented API error bodies (SPEC §3),
RFC 6749 bodies on the token endpoints, and HTML pages on the hosted site.

:func:`api_error` gives status, body and headers of an error answered as JSON; both the
Starlette exception handlers below and the raw-ASGI hot path (``web.hotpath``) use it.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import (
    ApplicationError,
    DomainError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from ..domain.oauth_errors import OAuthError
from .responses import json_response

__all__ = ["INTERNAL_DESCRIPTION", "api_error", "exception_handlers", "is_api_path", "log_unhandled"]

log = logging.getLogger("headless_redirects.errors")

INTERNAL_DESCRIPTION = "internal error; quote the x-wix-request-id header when reporting it"
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
_API_PREFIXES = ("/_api/", "/oauth2/", "/redirect-session/", "/headless/", "/.well-known/", "/members/")
_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def is_api_path(path: str) -> bool:
    return path.startswith(_API_PREFIXES) and not path.startswith("/_api/oauth2/authorize")


def _application_body(code: str, description: str) -> dict[str, Any]:
    return {
        "message": description,
        "details": {"applicationError": {"code": code, "description": description, "data": {}}},
    }


def api_error(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and extra headers for an error raised by an API endpoint."""
    if isinstance(exc, OAuthError):
        headers = dict(_NO_STORE)
        if exc.status_code == 401:
            headers["www-authenticate"] = 'Bearer error="invalid_client"'
        return exc.status_code, exc.to_wire(), headers
    if isinstance(exc, ValidationFailed):
        body = {
            "message": exc.description,
            "details": {"validationError": {"fieldViolations": [v.to_wire() for v in exc.violations]}},
        }
        return 400, body, {}
    if isinstance(exc, ApplicationError):
        headers = {"retry-after": str(exc.retry_after)} if exc.retry_after is not None else {}
        return exc.status, _application_body(exc.code, exc.description), headers
    if isinstance(exc, DomainError):
        return _STATUS.get(type(exc), 400), _application_body(exc.code, exc.description), {}
    if isinstance(exc, HTTPException):
        code = _HTTP_CODES.get(exc.status_code, "INVALID_ARGUMENT")
        return exc.status_code, _application_body(code, str(exc.detail)), dict(exc.headers or {})
    return 500, _application_body("INTERNAL", INTERNAL_DESCRIPTION), {}


def log_unhandled(exc: BaseException, request_id: str | None) -> None:
    log.error("unhandled error", exc_info=exc, extra={"request_id": request_id})


def _json_error(exc: Exception) -> Response:
    status, body, headers = api_error(exc)
    return json_response(body, status, headers)


def _page_error(request: Request, exc: Exception) -> Response:
    from .pages import render_message

    if isinstance(exc, HTTPException):
        kind = "not_found" if exc.status_code == 404 else "error"
        return render_message(request, exc.status_code, kind, str(exc.detail))
    if isinstance(exc, DomainError) and not isinstance(exc, ValidationFailed):
        return render_message(request, _STATUS.get(type(exc), 400), "error", exc.description)
    return render_message(request, 500, "error", INTERNAL_DESCRIPTION)


def _handled(request: Request, exc: Exception) -> Response:
    if is_api_path(request.url.path) or isinstance(exc, (OAuthError, ValidationFailed)):
        return _json_error(exc)
    return _page_error(request, exc)


def _server_error(request: Request, exc: Exception) -> Response:
    log_unhandled(exc, request.scope.get("state", {}).get("request_id"))
    return _handled(request, exc)


exception_handlers: dict[Any, Any] = {
    DomainError: _handled,
    OAuthError: _handled,
    HTTPException: _handled,
    Exception: _server_error,
}
