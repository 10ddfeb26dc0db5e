"""The composition root: one ``bootstrap`` wires storage and services for the web app and the CLI.

- ``bootstrap(settings)`` builds what a server instance runs on (``web.app.create_app``): the
  SQLite checkpointer thread and group commit, the PostgreSQL change listener. The webhook
  dispatcher is built here and started by the app with the first request (``web.background``).
- ``bootstrap(settings, background=False)`` builds the same services with no background work,
  for a command that runs and ends.
- ``bootstrap_admin(settings)`` is the CLI's: the database checked by ``startup`` (a bad URL or an
  unreachable or read-only database is one line and exit code 2 or 3), migrated, and the admin
  service over the services ``bootstrap`` wires.
"""

from __future__ import annotations

from . import startup
from .config import ConfigError
from .service.admin import AdminService
from .service.authorize import AuthorizeService
from .service.checkout import CheckoutService, Providers
from .service.create_session import SessionService
from .service.expiry import ExpirySweeper
from .service.flows import FlowService
from .service.idempotency import Idempotency
from .service.identity import IdentityService
from .service.keys import KeyRing
from .service.mail import Mailer
from .service.members import Limits, MemberService
from .service.session_api import SessionApi
from .service.tenancy import TenantCache
from .service.tokens import TokenService
from .service.unit_of_work import UnitOfWork
from .service.webhooks import Dispatcher, EventWriter, WebhookRegistry, parse_schedule
from .settings import Settings
from .storage.changes import ChangeFeed, PostgresListener
from .storage.database import Database
from .storage.idempotency import IdempotencyStore
from .storage.identity import IdentityStore
from .storage.mail import MailStore
from .storage.migrate import upgrade
from .storage.orders import OrderStore
from .storage.redis_failures import RedisFailures
from .storage.repository import Store
from .storage.session_queries import SessionQueries
from .storage.unit_of_work import SqlUnitOfWork, SqlWrites
from .storage.webhooks import WebhookStore
from .web.rate_limits import ApiLimits
from .web.services import Services

__all__ = ["bootstrap", "bootstrap_admin"]


def bootstrap(settings: Settings, *, migrate: bool = True, background: bool = True,
              db: Database | None = None) -> Services:
    """Build every service from settings.

    ``migrate`` applies migrations first. ``background=False`` starts no thread: no SQLite
    checkpointer or group commit (a command's writes must be durable as each returns, with no
    event loop to flush a group) and no PostgreSQL change listener. ``db``: a database already
    opened (and checked) by the caller, used as it is.
    """
    if db is None:
        # A server's workers on one SQLite file take turns at writing (``storage.write_lease``).
        db = Database(settings.database_url, background_checkpoints=background, group_commit=background,
                      pool_size=settings.database_pool_size, read_mmap_bytes=settings.sqlite_read_mmap_mib << 20,
                      write_lease=background and settings.workers > 1)
    if migrate:
        upgrade(db.engine)
    store = Store(db)
    changes = ChangeFeed()
    keys = KeyRing(store.signing_keys, issuer=settings.public_url.rstrip("/"), changes=changes)
    keys.load()
    tenants = TenantCache(store, settings.tenant_cache_seconds, changes)
    # Revocations from memory, like API keys: within REVOCATION_SECONDS everywhere, at once on
    # PostgreSQL (storage.tokens).
    store.tokens.remember(tenants.key_ttl, changes)
    if background and not db.is_sqlite:
        listener = PostgresListener(db.url, changes)
        listener.start()
        db.on_dispose(listener.stop)
    identity = IdentityStore(db, store.fast)
    tokens = TokenService(store, keys, tenants, settings, identity)
    db.on_dispose(tokens.signer.stop)
    members = MemberService(identity, Limits(settings.login_failures_per_account, settings.login_failures_per_ip,
                                             settings.login_failure_window), db)
    if settings.redis_url:
        failures = RedisFailures(settings.redis_url)
        members.failure_store = failures
        db.on_dispose(failures.close)
    mailer = Mailer(MailStore(db), settings)
    identity_api = IdentityService(store, identity, members, tokens, tenants, mailer, settings)
    idempotency = Idempotency(IdempotencyStore(db, store.fast), settings)
    webhooks = WebhookStore(db)
    events = EventWriter(WebhookRegistry(webhooks), settings.public_url)
    identity.events = events
    writes = SqlWrites(store.sessions, idempotency.store)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(writes, events)

    sessions = SessionService(uow, store.sessions.short_link, tenants, tokens, settings)
    flows = FlowService(uow, store, identity, tokens, settings)
    orders = OrderStore(db)
    checkout = CheckoutService(flows, sessions, tenants, identity, orders, Providers(tenants, orders), db.run)
    sweep = ExpirySweeper(uow, lambda: events.registry.sites, store.sessions.past_their_time)
    dispatcher = Dispatcher(webhooks, db.run, parse_schedule(settings.webhook_retry_schedule),
                            poll=settings.webhook_poll_interval, sweep=sweep)
    events.on_write = dispatcher.wake
    db.on_dispose(dispatcher.stop)
    return Services(settings, db, store, keys, tenants, tokens, sessions, identity, members, flows, orders,
                    AuthorizeService(flows, settings), checkout, identity_api, mailer, webhooks, dispatcher,
                    SessionApi(uow, SessionQueries(db), settings), idempotency, changes,
                    ApiLimits(settings.redis_url, settings.api_rate_limit_per_site, settings.api_rate_limit_per_key))


def bootstrap_admin(settings: Settings) -> AdminService:
    """The CLI's services: a checked, migrated database and no background work.

    ``AdminService.close`` disposes of the database when the command ends.
    """
    db = startup.open_database(settings.database_url)
    try:
        services = bootstrap(settings, migrate=False, background=False, db=db)
    except ValueError as exc:  # a setting the wiring reads (SMTP URL, retry schedule): one line, exit 2
        db.dispose()
        raise ConfigError(str(exc)) from None
    return AdminService(services.db, services.store, services.identity, services.members, services.keys,
                        services.mailer.store, services.webhooks, public_url=settings.public_url)
