"""The wired-up services one app instance uses (built once by ``bootstrap``)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from ..service.create_session import SessionService
from ..service.keys import KeyRing
from ..service.tenancy import TenantCache
from ..service.tokens import TokenService
from ..settings import Settings
from ..storage.database import Database
from ..storage.migrate import upgrade
from ..storage.repository import Store

__all__ = ["Services", "bootstrap", "services_of"]


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    store: Store
    keys: KeyRing
    tenants: TenantCache
    tokens: TokenService
    sessions: SessionService


def bootstrap(settings: Settings, *, migrate: bool = True) -> Services:
    """Build every service from settings; ``migrate`` applies migrations first."""
    db = Database(settings.database_url, background_checkpoints=True)
    if migrate:
        upgrade(db.engine)
    store = Store(db)
    keys = KeyRing(store, issuer=settings.public_url.rstrip("/"))
    keys.load()
    tenants = TenantCache(store, settings.tenant_cache_seconds)
    tokens = TokenService(store, keys, tenants, settings)
    sessions = SessionService(store, tenants, tokens, settings)
    return Services(settings, db, store, keys, tenants, tokens, sessions)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
