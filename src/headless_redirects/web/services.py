"""The wired-up services one app instance uses (built once by ``bootstrap``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from ..flows import FlowProvider, ProviderContext, load_provider
from ..service.create_session import SessionService
from ..service.flows import FlowService
from ..service.idempotency import Idempotency
from ..service.identity import IdentityService
from ..service.keys import KeyRing
from ..service.mail import Mailer
from ..service.members import Limits, MemberService
from ..service.session_api import SessionApi
from ..service.tenancy import TenantCache
from ..service.tokens import TokenService
from ..service.webhooks import Dispatcher, EventWriter, WebhookRegistry, parse_schedule
from ..settings import Settings
from ..storage.changes import ChangeFeed, PostgresListener
from ..storage.database import Database
from ..storage.idempotency import IdempotencyStore
from ..storage.identity import IdentityStore
from ..storage.mail import MailStore
from ..storage.migrate import upgrade
from ..storage.orders import OrderStore
from ..storage.redis_failures import RedisFailures
from ..storage.repository import Store
from ..storage.session_queries import SessionQueries
from ..storage.webhooks import WebhookStore
from .rate_limits import ApiLimits

__all__ = ["Services", "bootstrap", "services_of"]


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    store: Store
    keys: KeyRing
    tenants: TenantCache
    tokens: TokenService
    sessions: SessionService
    identity: IdentityStore
    members: MemberService
    flows: FlowService
    orders: OrderStore
    providers: dict[str, FlowProvider]
    identity_api: IdentityService
    mailer: Mailer
    webhooks: WebhookStore
    dispatcher: Dispatcher
    session_api: SessionApi
    idempotency: Idempotency
    # Tells the caches of a change made anywhere (``storage.changes``).
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    # API rate limits per site and API key (``web.rate_limits``).
    api_limits: ApiLimits = field(default_factory=lambda: ApiLimits(None, "", ""))

    def provider_for(self, site_id: str) -> FlowProvider:
        """The site's flow provider (``sites.flow_provider``), loaded once per instance."""
        tenant = self.tenants.tenant(site_id)
        name = tenant.site.flow_provider if tenant is not None else "demo"
        provider = self.providers.get(name)
        if provider is None:
            provider = self.providers[name] = load_provider(name, ProviderContext(self.orders))
        return provider


def bootstrap(settings: Settings, *, migrate: bool = True) -> Services:
    """Build every service from settings; ``migrate`` applies migrations first."""
    db = Database(settings.database_url, background_checkpoints=True, group_commit=True,
                  pool_size=settings.database_pool_size)
    if migrate:
        upgrade(db.engine)
    store = Store(db)
    changes = ChangeFeed()
    keys = KeyRing(store, issuer=settings.public_url.rstrip("/"), changes=changes)
    keys.load()
    tenants = TenantCache(store, settings.tenant_cache_seconds, changes)
    if not db.is_sqlite:
        listener = PostgresListener(db.url, changes)
        listener.start()
        db.on_dispose(listener.stop)
    identity = IdentityStore(db, store.fast)
    tokens = TokenService(store, keys, tenants, settings, identity)
    members = MemberService(identity, Limits(settings.login_failures_per_account, settings.login_failures_per_ip,
                                             settings.login_failure_window), db)
    if settings.redis_url:
        failures = RedisFailures(settings.redis_url)
        members.failure_store = failures
        db.on_dispose(failures.close)
    mailer = Mailer(MailStore(db), settings)
    identity_api = IdentityService(store, identity, members, tokens, tenants, mailer, settings)
    sessions = SessionService(store, tenants, tokens, settings)
    flows = FlowService(store, identity, tokens, settings)
    idempotency = Idempotency(IdempotencyStore(db, store.fast), settings)
    sessions.idempotency = idempotency.store
    webhooks = WebhookStore(db)
    events = EventWriter(WebhookRegistry(webhooks), settings.public_url)
    store.events = identity.events = events
    dispatcher = Dispatcher(webhooks, db.run, parse_schedule(settings.webhook_retry_schedule),
                            poll=settings.webhook_poll_interval, sweep=store.sweep_expired)
    events.on_write = dispatcher.wake
    db.on_dispose(dispatcher.stop)
    return Services(settings, db, store, keys, tenants, tokens, sessions, identity, members, flows,
                    OrderStore(db), {}, identity_api, mailer, webhooks, dispatcher,
                    SessionApi(store, SessionQueries(db), settings), idempotency, changes,
                    ApiLimits(settings.redis_url, settings.api_rate_limit_per_site, settings.api_rate_limit_per_key))


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
