"""The end of an ``auth`` flow (SPEC §5): the authorization response, and the session's end with it.

The code and the session's completion are one unit of work: a code exists only if the session
it answers completed, so a second request that loses the race (a replayed form, a second tab)
leaves no live, undelivered code behind (RFC 9700 §4.5: a code is delivered to one redirect URI,
once).
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..domain.lifecycle import RedirectSession
from ..settings import Settings
from .flows import FlowService
from .grants.authorization_code import new_code_row
from .unit_of_work import UnitOfWork

__all__ = ["AuthorizationResponse", "AuthorizeService"]


class AuthorizationResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    """What goes back to the client's redirect URI (or its page, by ``web_message``)."""

    code: str | None = None
    error: str | None = None
    error_description: str | None = None
    state: str | None = None


class AuthorizeService:
    def __init__(self, flows: FlowService, settings: Settings) -> None:
        self.flows = flows
        self.settings = settings

    def grant(self, session: RedirectSession, member_id: str) -> AuthorizationResponse:
        """Complete the session for ``member_id`` and issue a single-use code for it, together."""
        code, row = new_code_row(site_id=session.site_id, client_id=str(session.params["clientId"]),
                                 member_id=member_id, params=session.params, ttl=self.settings.code_ttl)

        def add_code(uow: UnitOfWork) -> None:
            uow.codes.add(row)

        outcome = {"result": "code", "wixMemberLoggedIn": True, "memberId": member_id}
        self.flows.move_with(session, RedirectSession.complete, (outcome,), add_code)
        return AuthorizationResponse(code=code, state=session.params.get("state"))

    def refuse(self, session: RedirectSession, error: str, description: str) -> AuthorizationResponse:
        """End the session without a code (``access_denied``, ``login_required``)."""
        outcome: dict[str, Any] = {"result": error, "wixMemberLoggedIn": False}
        self.flows.move(session, RedirectSession.abandon, outcome)
        return AuthorizationResponse(error=error, error_description=description, state=session.params.get("state"))
