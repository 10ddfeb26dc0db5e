"""The composition root: ``create_app(settings)`` wires storage, services and routes."""

from __future__ import annotations

import gc

from starlette.applications import Starlette
from starlette.types import ASGIApp

from ..bootstrap import bootstrap
from ..logs import configure as configure_logs
from ..settings import Settings
from . import account, checkout, health, hosted, identity_api, oauth, openapi, session_api
from .cors import Cors
from .errors import exception_handlers
from .hotpath import Edge, HotPath
from .metrics import Metrics, learn_routes
from .middleware import RequestIdMiddleware, TrustedProxies
from .services import Services

__all__ = ["app_from_env", "create_app"]


def create_app(settings: Settings | None = None, *, migrate: bool = True,
               services: Services | None = None) -> ASGIApp:
    """Build the ASGI app. ``migrate`` applies pending migrations before it serves."""
    settings = settings or Settings()
    services = services or bootstrap(settings, migrate=migrate)
    metrics = Metrics() if settings.metrics else None
    app = Starlette(
        routes=[
            *(metrics.routes() if metrics is not None else []),
            *oauth.routes(),
            *identity_api.routes(),
            *session_api.routes(),
            *account.routes(),
            *hosted.routes(),
            *checkout.routes(),
            *health.routes(),
            *openapi.routes(),
        ],
        exception_handlers=exception_handlers,
    )
    app.state.services = services
    learn_routes(app.routes)  # metrics and access lines name routes by template only
    hot = HotPath(app, services)
    cors = Cors(hot, services)
    # Outermost in the chain, so that even a 500 written by Starlette's error middleware carries
    # the id; the Edge answers the hot paths' common requests with the same parts inline.
    ids = RequestIdMiddleware(cors, access_log=settings.access_log, metrics=metrics,
                              trusted_proxies=TrustedProxies(settings.trusted_networks))
    return Edge(ids, hot, cors, services)


def app_from_env() -> ASGIApp:
    """Factory for ``uvicorn --factory`` workers: ``serve`` has migrated the database already."""
    settings = Settings()
    configure_logs(settings.log_level, settings.log_format)
    app = create_app(settings, migrate=False)
    # Everything made so far (modules, the app, its services) lives as long as the worker: out
    # of the cyclic garbage collector's sight, so that its collections scan only what requests
    # make (perf on a served token request: 5 % of the CPU in the collector before).
    gc.collect()
    gc.freeze()
    return app
