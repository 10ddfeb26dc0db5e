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

A client backend learns the outcome from the service, not from the browser: from
``client.redirects.get_redirect_session(id)`` or from a webhook checked with ``verify_webhook``.
"""

from ._auth import ApiKeyStrategy, OAuthStrategy
from ._client import AsyncClient, Client, create_async_client, create_client, redirects
from ._core import DEFAULT_BASE_URL, RetryPolicy
from ._errors import (
    APIError,
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    FieldViolation,
    HeadlessRedirectsError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotFound,
    OAuthError,
    PermissionDenied,
    RateLimited,
    SessionAlreadyFinished,
    ValidationError,
    WebhookVerificationError,
)
from ._models import (
    AccessToken,
    OAuthData,
    RedirectSession,
    RedirectSessionInfo,
    RedirectSessionsPage,
    RefreshToken,
    SessionOutcome,
    SessionState,
    TokenRole,
    Tokens,
    URLDetails,
    WebhookEvent,
)
from ._webhooks import verify_webhook

__all__ = [
    "DEFAULT_BASE_URL",
    "APIError",
    "AccessToken",
    "ApiKeyStrategy",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "FieldViolation",
    "HeadlessRedirectsError",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "NotFound",
    "OAuthData",
    "OAuthError",
    "OAuthStrategy",
    "PermissionDenied",
    "RateLimited",
    "RedirectSession",
    "RedirectSessionInfo",
    "RedirectSessionsPage",
    "RefreshToken",
    "RetryPolicy",
    "SessionAlreadyFinished",
    "SessionOutcome",
    "SessionState",
    "TokenRole",
    "Tokens",
    "URLDetails",
    "ValidationError",
    "WebhookEvent",
    "WebhookVerificationError",
    "create_async_client",
    "create_client",
    "redirects",
    "verify_webhook",
]
