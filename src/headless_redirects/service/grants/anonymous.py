"""The ``anonymous`` grant (SPEC §4): a new visitor of an app, with a refresh token.

Not an RFC 6749 grant: it is the extension grant (RFC 6749 §4.5) the official SDK uses to get a
visitor's tokens before anyone logs in.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ...domain.oauth_errors import InvalidClient
from ...domain.sessions import new_guid
from .base import VISITOR, Grant, Issued

__all__ = ["AnonymousGrant"]


class AnonymousGrant(Grant):
    GRANT_TYPE = "anonymous"

    def create_token_response(self, params: dict[str, str], authorization: str | None,
                              acting: MutableMapping[str, Any] | None) -> Issued:
        return self.anonymous(self.issuer.acting_client(params, acting))

    def anonymous(self, client_id: str) -> Issued:
        """A new visitor: an access token and a refresh token."""
        found = self.issuer.tenants.tenant_of_app(client_id)
        if found is None:
            raise InvalidClient("unknown client_id")
        tenant, _ = found
        return self.issuer.prepare(VISITOR, new_guid(), tenant.site.id, client_id, "", refresh=True)
