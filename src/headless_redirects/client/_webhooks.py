"""``verify_webhook``: check a delivery's Standard Webhooks signature and read its event.

The service signs each delivery as the Standard Webhooks specification says (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``: HMAC-SHA256 of ``id.timestamp.body`` with the
endpoint's ``whsec_`` secret); the ``standardwebhooks`` library checks the signature and that
the timestamp is within five minutes (against replays of an old delivery).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from datetime import datetime

from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as _LibraryError

from ._errors import WebhookVerificationError
from ._models import WebhookEvent

__all__ = ["verify_webhook"]


def verify_webhook(body: bytes | str, headers: Mapping[str, str], secret: str) -> WebhookEvent:
    """The event of a webhook delivery, once its signature and timestamp verify.

    ``body`` is the request body exactly as received (bytes, before any JSON parsing),
    ``headers`` the request headers (any mapping; names in any case), ``secret`` the endpoint's
    ``whsec_...`` secret from ``headless-redirects webhooks add``. Raises
    :class:`WebhookVerificationError` for anything that does not verify; answer that with 400.

    >>> event = verify_webhook(await request.body(), request.headers, os.environ["HR_WEBHOOK_SECRET"])
    >>> if event.type == "redirect_session.completed":
    ...     confirm(event.redirect_session.id, event.redirect_session.outcome.order_id)
    """
    try:
        webhook = Webhook(secret)
    except Exception as exc:  # binascii.Error (not base64), EmptyWebhookSecretError (empty)
        # A configuration mistake, not a forged delivery: it must not look like one.
        raise ValueError("the webhook secret is not a whsec_... secret from `webhooks add`") from exc
    plain = {str(k).lower(): str(v) for k, v in headers.items()}
    try:
        payload = webhook.verify(body, plain)
    except _LibraryError as exc:
        raise WebhookVerificationError(str(exc)) from None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        # a malformed signature header, or a body that is not JSON (JSONDecodeError is a ValueError)
        raise WebhookVerificationError("malformed webhook signature or body") from None
    try:
        event_type, stamp, data = payload["type"], payload["timestamp"], payload["data"]
        if not isinstance(event_type, str) or not isinstance(data, dict):
            raise TypeError
        timestamp = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        raise WebhookVerificationError("the body is not a webhook event ({type, timestamp, data})") from None
    return WebhookEvent(id=plain["webhook-id"], type=event_type, timestamp=timestamp, data=data)
