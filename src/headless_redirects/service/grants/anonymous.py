"""The ``anonymous`` grant (SPEC §4): a new visitor of an app, with a refresh token.

Not an RFC 6749 grant: it is the extension grant (RFC 6749 §4.5) the official SDK uses to get a
visitor's tokens before anyone logs in.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ...domain.sessions import new_guid
from .base import VISITOR, Grant, Issued

__all__ = ["AnonymousGrant"]


class AnonymousGrant(Grant):
    GRANT_TYPE = "anonymous"

    def create_token_response(self, params: dict[str, str], authorization: str | None,
                              acting: MutableMapping[str, Any] | None) -> Issued:
        """A new visitor: an access token and a refresh token."""
        client_id, tenant = self.issuer.acting_tenant(params, acting)
        return self.issuer.prepare(VISITOR, new_guid(), tenant.site.id, client_id, "", refresh=True)
