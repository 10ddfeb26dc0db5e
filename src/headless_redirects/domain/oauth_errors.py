"""OAuth 2.0 error responses, one class per RFC 6749 §5.2 error code.

The docstring of each class is the RFC's own definition of the code.
"""

from __future__ import annotations

__all__ = [
    "InvalidClient",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "OAuthError",
    "UnauthorizedClient",
    "UnsupportedGrantType",
]


class OAuthError(Exception):
    """An error answered with ``{"error": ..., "error_description": ...}``."""

    error = "invalid_request"
    status_code = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def to_wire(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidRequest(OAuthError):
    """The request is missing a required parameter, includes an unsupported parameter value
    (other than grant type), repeats a parameter, includes multiple credentials, utilizes more
    than one mechanism for authenticating the client, or is otherwise malformed."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed (e.g., unknown client, no client authentication included,
    or unsupported authentication method)."""

    error = "invalid_client"
    status_code = 401


class InvalidGrant(OAuthError):
    """The provided authorization grant (e.g., authorization code, resource owner credentials)
    or refresh token is invalid, expired, revoked, does not match the redirection URI used in
    the authorization request, or was issued to another client."""

    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    """The authenticated client is not authorized to use this authorization grant type."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    """The authorization grant type is not supported by the authorization server."""

    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the
    resource owner."""

    error = "invalid_scope"
