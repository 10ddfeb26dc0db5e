"""Background work of an instance (the webhook dispatcher and expiry sweeper), started with
the first thing the server hands the app — a lifespan event or a request — so it runs under any
ASGI server set-up, and stopped when the services are disposed."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .services import Services

__all__ = ["StartBackground"]


class StartBackground:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.started:
            self.started = True
            if self.services.settings.webhook_dispatcher:
                self.services.dispatcher.start()
        await self.app(scope, receive, send)
