"""Hosted flows: the landing rules every hosted page shares, the hosted site's browser session,
and the end of a flow (SPEC §5).

Landing on a session URL: unknown id → :class:`SessionNotFound`; expired → :class:`SessionExpired`;
completed, abandoned or placing its order → :class:`SessionUsed`; opened first by another
browser → :class:`OtherBrowser`. The first browser to open a session is bound to it (``open``).
Every change of a session is a transition of ``domain.lifecycle`` stored through a unit of work
(``service.unit_of_work``) from the state and version it was read at.

The browser's cookie ``hr_session`` is ``<binding>`` or, with a member logged in on the hosted
site, ``<binding>.<login>``:

- the binding (``hrb_…``) is what a session is bound to (``bound_browser`` is its digest). It is
  only a random name for the browser: it needs no row, so a visit writes nothing until there is
  something to keep (SPEC §8);
- a login (``hrl_…``) is issued afresh, with a ``browser_sessions`` row keyed by the digest of
  the whole cookie, every time the identity behind the cookie changes. A cookie planted before a
  login therefore never carries that login (no session fixation), while the sessions the browser
  has open stay bound to it.

The identity a session URL carries (``maintainIdentity``) applies to that flow only
(:meth:`FlowService.flow_identity`); it never becomes a hosted-site login.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..domain.lifecycle import COMPLETED, EXPIRED, BoundElsewhere, InvalidTransition, RedirectSession
from ..settings import Settings
from ..storage.identity import BrowserSessionRow, IdentityStore
from ..storage.repository import Store
from . import counters
from .secrets import digest, new_secret
from .tokens import MEMBER, VISITOR, TokenService
from .unit_of_work import Conflict, UnitOfWork

__all__ = [
    "Browser",
    "FlowError",
    "FlowService",
    "OtherBrowser",
    "SessionExpired",
    "SessionNotFound",
    "SessionUsed",
    "Transition",
]

# A transition of ``domain.lifecycle``: ``(session, now, *args) -> the session moved``.
Transition = Callable[..., RedirectSession]

# What new_secret("hrb_") and new_secret("hrl_") make; anything else is not our cookie.
_COOKIE = re.compile(r"^hrb_[A-Za-z0-9_-]{43}(?:\.hrl_[A-Za-z0-9_-]{43})?$")


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
    """The hosted site's session of one browser: its cookie value, the key sessions are bound
    to, and the hosted login it holds (``row``, ``None`` when nobody is logged in)."""

    token: str
    key: str
    row: BrowserSessionRow | None = None

    def member_on(self, site_id: str) -> str | None:
        row = self.row
        return row.member_id if row is not None and row.member_site_id == site_id else None

    def csrf(self, session_id: str) -> str:
        """A form token bound to this cookie value and this session (the cookie is HttpOnly and
        SameSite=Lax, so another site can neither read it nor make a browser send it)."""
        return hmac.new(self.token.encode(), b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def _binding(token: str) -> str:
    return token.partition(".")[0]


class FlowService:
    def __init__(self, uow: Callable[[], UnitOfWork], store: Store, identity: IdentityStore, tokens: TokenService,
                 settings: Settings) -> None:
        self.uow = uow
        self.store = store
        self.identity = identity
        self.tokens = tokens
        self.settings = settings

    # --- the browser session ---------------------------------------------------------------

    def browser(self, cookie: str | None) -> Browser:
        """The browser behind a cookie value, or a new one. Writes nothing but the removal of a
        login that expired or was revoked (a logout on any instance)."""
        if not cookie or not _COOKIE.match(cookie):
            token = new_secret("hrb_")
            return Browser(token, digest(token))
        binding = _binding(cookie)
        row = self.identity.browser_session(digest(cookie))
        if row is not None and row.expires_at > time.time() and row.member_id is not None:
            revoked = self.store.tokens.revoked_before(row.member_id)
            if revoked is None or (row.member_since_ms or 0) >= revoked:
                return Browser(cookie, digest(binding), row)
        if row is not None:
            self.identity.delete_browser_session(row.token_hash)
        return Browser(binding, digest(binding))

    def log_in(self, browser: Browser, member_id: str, site_id: str) -> Browser:
        """Log a member in on this browser: a new cookie value (and row) for the new identity,
        the old login forgotten. The binding stays, so the browser's open sessions stay its own."""
        token = f"{_binding(browser.token)}.{new_secret('hrl_')}"
        now = int(time.time())
        row = BrowserSessionRow(digest(token), None, member_id, site_id, time.time_ns() // 1_000_000, now,
                                now + self.settings.browser_session_ttl)
        self.identity.insert_browser_session(row)
        if browser.row is not None:
            self.identity.delete_browser_session(browser.row.token_hash)
        return Browser(token, browser.key, row)

    # --- landing and moving on -------------------------------------------------------------

    def land(self, session_id: str | None, browser: Browser, intents: Iterable[str]) -> RedirectSession:
        """The session behind a hosted page's URL, opened by this browser (``open`` binds the
        first browser); the :class:`FlowError` to show instead when it cannot be."""
        with self.uow() as uow:
            session = uow.sessions.get(session_id) if session_id else None
            if session is None or session.intent not in tuple(intents):
                raise SessionNotFound()
            now = int(time.time())
            try:
                opened = session.open(now, browser.key, self.settings.order_retry_after)
            except BoundElsewhere:
                raise OtherBrowser(session) from None
            except InvalidTransition:
                raise (SessionExpired if session.state_at(now) == EXPIRED else SessionUsed)(session) from None
            if opened is session:
                return session
            uow.sessions.save(session, opened)
            try:
                uow.commit()
            except Conflict:
                return self.land(session_id, browser, intents)  # another request opened it first
            return opened

    def move(self, session: RedirectSession, transition: Transition, *args: Any) -> RedirectSession:
        """Apply one transition of ``domain.lifecycle`` (``RedirectSession.complete``,
        ``.abandon``, ``.note_login``...) and store it; a session moves once from where it was
        read, so a replayed form or another request first raises :class:`SessionUsed`."""
        return self.move_with(session, transition, args)

    def move_with(self, session: RedirectSession, transition: Transition, args: tuple[Any, ...],
                  also: Callable[[UnitOfWork], None] | None = None) -> RedirectSession:
        """:meth:`move`, and ``also(uow)`` staged in the same transaction (a code, a session)."""
        try:
            after = transition(session, int(time.time()), *args)
        except InvalidTransition:
            raise SessionUsed(session) from None
        with self.uow() as uow:
            uow.sessions.save(session, after)
            if also is not None:
                also(uow)
            try:
                uow.commit()
            except Conflict:
                raise SessionUsed(session) from None
        if after.state == COMPLETED:
            counters.sessions_completed.labels(session.intent).inc()
        return after

    def completed(self, session_id: str, browser: Browser) -> RedirectSession:
        """A completed session, for the browser that completed it (the thank-you page)."""
        with self.uow() as uow:
            session = uow.sessions.get(session_id) if session_id else None
        if session is None or session.state != COMPLETED:
            raise SessionNotFound()
        if session.bound_browser != browser.key:
            raise OtherBrowser(session)
        return session

    @staticmethod
    def flow_identity(session: RedirectSession, browser: Browser) -> tuple[str | None, str | None]:
        """``(visitor id, member id)`` a flow acts for: the member logged in on the hosted site,
        else, with ``maintainIdentity``, the identity that created the session. The latter holds
        for this flow only: it is never written to the browser, so it never becomes a hosted-site
        login (which ``prompt=none`` would honour) nor outlives the flow."""
        member = browser.member_on(session.site_id)
        carried = session.preferences.get("maintainIdentity", True) and session.intent not in ("auth", "logout")
        visitor = None
        if carried and session.creator_id:
            if session.creator_type == VISITOR:
                visitor = session.creator_id
            elif session.creator_type == MEMBER and member is None:
                member = session.creator_id
        return visitor, member

    # --- logout ----------------------------------------------------------------------------

    def log_out(self, session: RedirectSession, browser: Browser) -> bool:
        """Revoke the identity that created the logout session, on every instance. The
        browser's hosted login is forgotten only when it is that same identity (a logout link
        made by someone else must not log out whoever opens it); ``True`` when it was."""
        if session.creator_id:
            self.tokens.revoke_subject(session.creator_id)
        same = (session.creator_type == MEMBER and session.creator_id is not None
                and browser.member_on(session.site_id) == session.creator_id)
        if same and browser.row is not None:
            self.identity.delete_browser_session(browser.row.token_hash)
        return same
