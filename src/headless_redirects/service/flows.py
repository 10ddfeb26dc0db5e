"""Hosted flows: the landing rules every hosted page shares, the hosted site's browser session,
and the end of a flow (SPEC §5).

Landing on a session URL: unknown id → :class:`SessionNotFound`; expired → :class:`SessionExpired`;
completed or abandoned → :class:`SessionUsed`; opened first by another browser →
:class:`OtherBrowser`. The first browser to open a session is bound to it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..domain.sessions import ABANDONED, COMPLETED, CREATED, EXPIRED, InvalidTransition, RedirectSession
from ..settings import Settings
from ..storage.identity import BrowserSessionRow, IdentityStore
from ..storage.repository import Store
from .secrets import digest, new_secret
from .tokens import MEMBER, VISITOR, TokenService

__all__ = [
    "Browser",
    "FlowError",
    "FlowService",
    "OtherBrowser",
    "SessionExpired",
    "SessionNotFound",
    "SessionUsed",
]


class FlowError(Exception):
    kind = "error"
    status = 400

    def __init__(self, session: RedirectSession | None = None) -> None:
        super().__init__(self.kind)
        self.session = session


class SessionNotFound(FlowError):
    kind, status = "not_found", 404


class SessionExpired(FlowError):
    kind, status = "expired", 410


class SessionUsed(FlowError):
    kind, status = "used", 409


class OtherBrowser(FlowError):
    kind, status = "other_browser", 403


@dataclass(frozen=True, slots=True)
class Browser:
    """The hosted site's session of one browser: its cookie value and what it holds."""

    token: str
    row: BrowserSessionRow

    @property
    def key(self) -> str:
        return self.row.token_hash

    def member_on(self, site_id: str) -> str | None:
        return self.row.member_id if self.row.member_site_id == site_id else None

    def csrf(self, session_id: str) -> str:
        """A form token bound to this browser and this session (the cookie is HttpOnly and
        SameSite=Lax, so another site can neither read it nor make a browser send it)."""
        return hmac.new(self.token.encode(), b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


class FlowService:
    def __init__(self, store: Store, identity: IdentityStore, tokens: TokenService, settings: Settings) -> None:
        self.store = store
        self.identity = identity
        self.tokens = tokens
        self.settings = settings

    # --- the browser session ---------------------------------------------------------------

    def browser(self, token: str | None) -> Browser:
        now = int(time.time())
        if token:
            row = self.identity.browser_session(digest(token))
            if row is not None and row.expires_at > now:
                if row.member_id is not None:
                    revoked = self.store.revoked_before(row.member_id)
                    if revoked is not None and (row.member_since_ms or 0) < revoked:
                        # the member logged out somewhere (any instance): not logged in here either
                        self.identity.update_browser_session(row.token_hash, member_id=None, member_site_id=None,
                                                             member_since_ms=None)
                        row = self.identity.browser_session(row.token_hash) or row
                return Browser(token, row)
        token = new_secret("hrb_")
        row = BrowserSessionRow(digest(token), None, None, None, None, now, now + self.settings.browser_session_ttl)
        self.identity.insert_browser_session(row)
        return Browser(token, row)

    def log_in(self, browser: Browser, member_id: str, site_id: str) -> Browser:
        self.identity.update_browser_session(browser.key, member_id=member_id, member_site_id=site_id,
                                             member_since_ms=time.time_ns() // 1_000_000)
        row = self.identity.browser_session(browser.key)
        assert row is not None
        return Browser(browser.token, row)

    # --- landing ---------------------------------------------------------------------------

    def land(self, session_id: str | None, browser: Browser, intents: Iterable[str]) -> RedirectSession:
        session = self.store.get_session(session_id) if session_id else None
        if session is None or session.intent not in tuple(intents):
            raise SessionNotFound()
        now = int(time.time())
        state = session.state_at(now)
        if state == EXPIRED:
            raise SessionExpired(session)
        if state in (COMPLETED, ABANDONED):
            raise SessionUsed(session)
        if session.bound_browser is not None and session.bound_browser != browser.key:
            raise OtherBrowser(session)
        if state == CREATED:
            opened = replace(session.open(now), bound_browser=browser.key)
            if not self.store.move_session(session.id, (CREATED,), state=opened.state, bound_browser=browser.key):
                return self.land(session_id, browser, intents)  # another request opened it first
            self._carry_identity(session, browser)
            return opened
        return session

    def _carry_identity(self, session: RedirectSession, browser: Browser) -> None:
        """maintainIdentity: the identity that created the session continues on the hosted site."""
        if not session.preferences.get("maintainIdentity", True) or session.intent in ("auth", "logout"):
            return
        if session.creator_type == VISITOR and session.creator_id:
            self.identity.update_browser_session(browser.key, visitor_id=session.creator_id)
        elif session.creator_type == MEMBER and session.creator_id and browser.member_on(session.site_id) is None:
            self.identity.update_browser_session(browser.key, member_id=session.creator_id,
                                                 member_site_id=session.site_id,
                                                 member_since_ms=time.time_ns() // 1_000_000)

    def finish(self, session: RedirectSession, state: str, outcome: dict[str, Any]) -> None:
        """End the flow (``COMPLETED`` or ``ABANDONED``); a session ends once, so a second
        finish (a replayed form, another instance first) raises :class:`SessionUsed`."""
        now = int(time.time())
        try:
            ended = session.complete(now, outcome) if state == COMPLETED else session.abandon(now, outcome)
        except InvalidTransition:
            raise SessionUsed(session) from None
        if not self.store.move_session(session.id, (session.state,), state=ended.state, outcome=ended.outcome):
            raise SessionUsed(session)

    # --- logout ----------------------------------------------------------------------------

    def log_out(self, session: RedirectSession, browser: Browser) -> None:
        """Revoke the identity behind the session and the member logged in on this browser, on
        every instance, and forget the browser session."""
        for subject in {session.creator_id, browser.row.member_id, browser.row.visitor_id} - {None}:
            assert subject is not None
            self.tokens.revoke_subject(subject)
        self.identity.delete_browser_session(browser.key)
