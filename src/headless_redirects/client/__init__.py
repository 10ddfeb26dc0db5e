"""The Python client SDK of headless-redirects, shaped like the official JS SDK
(``@wix/sdk`` + ``@wix/redirects``). It imports nothing from the server side.

    from headless_redirects.client import OAuthStrategy, create_client, redirects

    client = create_client(modules={"redirects": redirects}, auth=OAuthStrategy(client_id=CLIENT_ID),
                           base_url="http://127.0.0.1:8080")
    session = client.redirects.create_redirect_session(
        ecom_checkout={"checkout_id": CHECKOUT_ID},
        callbacks={"post_flow_url": "https://shop.example.com/after"},
    )
    print(session.full_url)
"""

from ._auth import ApiKeyStrategy, OAuthStrategy
from ._client import AsyncClient, Client, create_async_client, create_client, redirects
from ._core import DEFAULT_BASE_URL, RetryPolicy
from ._errors import (
    APIError,
    AuthenticationError,
    ConnectionFailed,
    FieldViolation,
    HeadlessRedirectsError,
    NotFound,
    OAuthError,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from ._models import AccessToken, OAuthData, RedirectSession, RefreshToken, TokenRole, Tokens, URLDetails

__all__ = [
    "DEFAULT_BASE_URL",
    "APIError",
    "AccessToken",
    "ApiKeyStrategy",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConnectionFailed",
    "FieldViolation",
    "HeadlessRedirectsError",
    "NotFound",
    "OAuthData",
    "OAuthError",
    "OAuthStrategy",
    "PermissionDenied",
    "RateLimited",
    "RedirectSession",
    "RefreshToken",
    "RetryPolicy",
    "TokenRole",
    "Tokens",
    "URLDetails",
    "ValidationError",
    "create_async_client",
    "create_client",
    "redirects",
]
