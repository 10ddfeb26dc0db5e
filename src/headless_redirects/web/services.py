"""The wired-up services one app instance uses (built once by ``headless_redirects.bootstrap``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from ..service.authorize import AuthorizeService
from ..service.checkout import CheckoutService
from ..service.create_session import SessionService
from ..service.flows import FlowService
from ..service.idempotency import Idempotency
from ..service.identity import IdentityService
from ..service.keys import KeyRing
from ..service.mail import Mailer
from ..service.members import MemberService
from ..service.session_api import SessionApi
from ..service.tenancy import TenantCache
from ..service.tokens import TokenService
from ..service.webhooks import Dispatcher
from ..settings import Settings
from ..storage.changes import ChangeFeed
from ..storage.database import Database
from ..storage.identity import IdentityStore
from ..storage.orders import OrderStore
from ..storage.repository import Store
from ..storage.webhooks import WebhookStore
from .rate_limits import ApiLimits

__all__ = ["Services", "services_of"]


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
    authorize: AuthorizeService
    checkout: CheckoutService
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


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
