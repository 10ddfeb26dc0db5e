"""The administration use cases the CLI runs (SPEC §6, §11, §12): sites, apps, API keys, signing
keys, members, sessions, the mail outbox and webhook endpoints.

Each method is one use case on the stored state and returns the typed results of
``service.admin_results``; a refusal is an ``AdminError`` whose message names what is wrong.
Nothing here knows how the CLI prints.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
import msgspec

from ..domain.callbacks import UrlProblem, parse_absolute_url
from ..domain.lifecycle import RedirectSession
from ..domain.origins import normalize_origin
from ..flows import ProviderContext, load_provider
from ..storage.database import Database
from ..storage.identity import IdentityStore
from ..storage.mail import MailStore
from ..storage.repository import Store
from ..storage.webhooks import WebhookStore
from .admin_results import (
    AdminError,
    ApiKey,
    App,
    Attempt,
    Endpoint,
    Invalid,
    Mail,
    Member,
    NewApiKey,
    NewEndpoint,
    NewSite,
    NotFound,
    NothingToChange,
    Resent,
    RevokedKey,
    SentTestEvent,
    SessionSummary,
    SigningKey,
    Site,
)
from .keys import KeyRing
from .members import APPROVED, BLOCKED, LoginFailed, MemberService
from .tenancy import create_tenant, new_api_key, new_app
from .webhooks import TEST, Dispatcher, EventWriter, new_endpoint, parse_schedule

__all__ = ["AdminService"]

R = TypeVar("R")


def _result(row: object, kind: type[R]) -> R:
    return msgspec.convert(row, kind, from_attributes=True)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """The dispatcher's ``run`` for a command: its storage calls block, there is no server loop."""
    return fn(*args, **kwargs)


class AdminService:
    def __init__(self, db: Database, store: Store, identity: IdentityStore, members: MemberService, keys: KeyRing,
                 outbox: MailStore, webhooks: WebhookStore, *, public_url: str) -> None:
        self.db = db
        self.store = store
        self.identity = identity
        self.members = members
        self.keys = keys
        self.outbox = outbox
        self.webhooks = webhooks
        self.public_url = public_url  # where the sessions' short links point

    def close(self) -> None:
        self.db.dispose()

    def _site_row(self, site_id: str) -> Any:
        site = self.store.tenancy.get_site(site_id)
        if site is None:
            raise NotFound(f"no site {site_id}")
        return site

    # --- sites ------------------------------------------------------------------------------

    def create_site(self, *, name: str, public_url: str | None, allowed_domains: Sequence[str],
                    redirect_uris: Sequence[str]) -> NewSite:
        """A site with one OAuth app and one API key."""
        try:
            tenant = create_tenant(self.store, name=name, public_url=public_url, allowed_domains=allowed_domains,
                                   redirect_uris=redirect_uris)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        return NewSite(site_id=tenant.site_id, client_id=tenant.client_id, api_key=tenant.api_key)

    def development_site(self, *, allowed_domains: Sequence[str], redirect_uris: Sequence[str]) -> NewSite | None:
        """The site ``serve`` creates on an empty database (``None``: there are sites already)."""
        if self.store.tenancy.count_sites():
            return None
        return self.create_site(name="Development site", public_url=None, allowed_domains=allowed_domains,
                                redirect_uris=redirect_uris)

    def site(self, site_id: str) -> Site:
        return _result(self._site_row(site_id), Site)

    def update_site(self, site_id: str, *, flow_provider: str | None = None, base_url: str | None = None,
                    registration_policy: str | None = None) -> Site:
        """Change what is given; ``Invalid`` when the flow provider does not load."""
        values: dict[str, object] = {}
        if flow_provider:
            try:
                load_provider(flow_provider, ProviderContext(orders=None))
            except (ValueError, ImportError, AttributeError) as exc:
                raise Invalid(str(exc)) from None
            values["flow_provider"] = flow_provider
        if base_url:
            values["base_url"] = base_url
        if registration_policy:
            values["registration_policy"] = registration_policy
        if not values:
            raise NothingToChange
        if not self.store.tenancy.update_site(site_id, **values):
            raise NotFound(f"no site {site_id}")
        return self.site(site_id)

    def set_page(self, site_id: str, intent: str, *, path: str, published: bool) -> Site:
        """The custom page of one intent (``useGenericWixPages=false`` / ``checkIfPublish``)."""
        return self._pages(site_id, intent, {"path": path, "published": published})

    def remove_page(self, site_id: str, intent: str) -> Site:
        return self._pages(site_id, intent, None)

    def _pages(self, site_id: str, intent: str, page: dict[str, Any] | None) -> Site:
        pages = dict(self._site_row(site_id).page_settings)
        if page is None:
            pages.pop(intent, None)
        else:
            pages[intent] = page
        self.store.tenancy.update_site(site_id, page_settings=pages)
        return self.site(site_id)

    # --- apps -------------------------------------------------------------------------------

    def apps(self, site_id: str) -> list[App]:
        self._site_row(site_id)
        return [_result(a, App) for a in self.store.tenancy.site_apps(site_id)]

    def create_app(self, site_id: str, *, name: str, allowed_domains: Sequence[str], redirect_uris: Sequence[str],
                   allowed_origins: Sequence[str]) -> App:
        self._site_row(site_id)
        for uri in redirect_uris:
            if isinstance(parse_absolute_url(uri), UrlProblem):
                raise Invalid(f"bad redirect URI {uri!r}")
        try:
            app = new_app(site_id, name, allowed_domains=allowed_domains, redirect_uris=redirect_uris,
                          allowed_origins=allowed_origins)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        self.store.tenancy.insert_app(app)
        return _result(app, App)

    def update_app(self, client_id: str, *, allowed_origins: Sequence[str] | None,
                   clear_origins: bool = False) -> App:
        """Replace the app's extra browser origins (``clear_origins``: with none)."""
        try:
            origins = list(dict.fromkeys(normalize_origin(o) for o in allowed_origins or []))
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        if self.store.tenancy.get_app(client_id) is None:
            raise NotFound(f"no app {client_id}")
        if allowed_origins is None and not clear_origins:
            raise NothingToChange
        self.store.tenancy.update_app(client_id, allowed_origins=[] if clear_origins else origins)
        return _result(self.store.tenancy.get_app(client_id), App)

    # --- keys -------------------------------------------------------------------------------

    def api_keys(self, site_id: str) -> list[ApiKey]:
        self._site_row(site_id)
        return [_result(k, ApiKey) for k in self.store.tenancy.site_api_keys(site_id)]

    def create_api_key(self, site_id: str, *, name: str, scopes: Sequence[str] = ()) -> NewApiKey:
        self._site_row(site_id)
        key, secret = new_api_key(site_id, name, scopes)
        self.store.tenancy.insert_api_key(key)
        return NewApiKey(id=key.id, api_key=secret, scopes=key.scopes)

    def revoke_api_key(self, key_id: str) -> RevokedKey:
        now = int(time.time())
        if not self.store.tenancy.revoke_api_key(key_id, now):
            raise NotFound(f"no active key {key_id}")
        return RevokedKey(id=key_id, revoked_at=now)

    def rotate_signing_key(self) -> SigningKey:
        """A new token signing key; older ones verify until their tokens expire."""
        return SigningKey(kid=self.keys.rotate())

    # --- members ----------------------------------------------------------------------------

    def create_member(self, site_id: str, email: str, password: str) -> Member:
        self._site_row(site_id)
        try:
            return _result(self.members.create(site_id, email, password), Member)
        except LoginFailed as exc:
            raise Invalid(str(exc)) from None

    def list_members(self, site_id: str, status: str | None = None) -> list[Member]:
        self._site_row(site_id)
        return [_result(m, Member) for m in self.identity.list_members(site_id, status)]

    def approve_member(self, member_id: str) -> Member:
        return self._set_status(member_id, APPROVED)

    def block_member(self, member_id: str) -> Member:
        """Blocked: it cannot log in and its tokens fail at once, on every instance."""
        return self._set_status(member_id, BLOCKED)

    def delete_member(self, member_id: str) -> Member:
        """Deleted, and its tokens fail at once; returns the member as it was."""
        member = self._member(member_id)
        self.identity.delete_member(member.id)
        self.store.tokens.revoke(member.id, _now_ms() + 1)
        return member

    def _member(self, member_id: str) -> Member:
        row = self.identity.get_member(member_id)
        if row is None:
            raise NotFound(f"no member {member_id}")
        return _result(row, Member)

    def _set_status(self, member_id: str, status: str) -> Member:
        member = self._member(member_id)
        self.identity.update_member(member.id, status=status, updated_at=int(time.time()))
        if status == BLOCKED:
            self.store.tokens.revoke(member.id, _now_ms() + 1)
        return msgspec.structs.replace(member, status=status)

    # --- sessions and housekeeping ----------------------------------------------------------

    def session(self, session_id: str) -> RedirectSession:
        session = self.store.sessions.get(session_id)
        if session is None:
            raise NotFound(f"no session {session_id}")
        return session

    def list_sessions(self, site_id: str | None, limit: int) -> list[SessionSummary]:
        now = int(time.time())
        return [SessionSummary(id=s.id, intent=s.intent, state=s.state_at(now), site_id=s.site_id,
                               created_at=s.created_at, expires_at=s.expires_at)
                for s in self.store.sessions.newest(site_id, limit)]

    def purge(self, keep_days: int) -> int:
        """Delete sessions and refresh tokens expired more than ``keep_days`` ago; how many rows."""
        return self.store.purge_expired(int(time.time()), keep_days * 86400)

    def mail(self, limit: int, recipient: str | None = None) -> list[Mail]:
        """The newest emails first (the development outbox)."""
        return [_result(m, Mail) for m in self.outbox.recent(limit, recipient)]

    # --- webhooks ---------------------------------------------------------------------------

    def add_endpoint(self, site_id: str, url: str, events: Sequence[str]) -> NewEndpoint:
        self._site_row(site_id)
        try:
            endpoint = new_endpoint(site_id, url, events)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        self.webhooks.add_endpoint(endpoint)
        return _result(endpoint, NewEndpoint)

    def endpoints(self, site_id: str | None) -> list[Endpoint]:
        return [_result(e, Endpoint) for e in self.webhooks.endpoints(site_id)]

    def _endpoint(self, endpoint_id: str) -> Any:
        found = self.webhooks.endpoint(endpoint_id)
        if found is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return found

    def remove_endpoint(self, endpoint_id: str) -> Endpoint:
        """Removed with its pending deliveries; returns the endpoint as it was."""
        found = self._endpoint(endpoint_id)
        self.webhooks.remove_endpoint(found.id, _now_ms())
        return _result(found, Endpoint)

    def attempts(self, endpoint_id: str, limit: int) -> list[Attempt]:
        """An endpoint's delivery attempts, newest first."""
        return [_result(a, Attempt) for a in self.webhooks.attempts(self._endpoint(endpoint_id).id, limit)]

    def resend(self, event_id: str) -> Resent:
        """Deliver a past event again (the same webhook-id), through the servers' dispatchers."""
        count = self.webhooks.resend(event_id, _now_ms())
        if count < 0:
            raise NotFound(f"no event {event_id}")
        return Resent(event_id=event_id, deliveries=count)

    async def send_test(self, endpoint_id: str) -> SentTestEvent:
        """A ``webhook.test`` event delivered from this process now, recorded as an attempt."""
        endpoint = self._endpoint(endpoint_id)
        now_ms = _now_ms()
        event = EventWriter.build(endpoint.site_id, TEST, {"endpointId": endpoint.id}, endpoint_id=endpoint.id)
        claim = self.webhooks.claim_one(self.webhooks.add_test(event, endpoint.id, now_ms), now_ms, 30_000)
        if claim is None:
            raise AdminError(f"the test delivery to {endpoint.id} was claimed by another process")
        async with httpx.AsyncClient(timeout=15.0) as http:
            status = await Dispatcher(self.webhooks, _call, parse_schedule("")).deliver(http, claim)
        return SentTestEvent(event_id=event["id"], status_code=status,
                             delivered=status is not None and 200 <= status < 300)
