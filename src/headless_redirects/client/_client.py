"""``create_client`` and ``create_async_client``: the same calls, sync or async, one core."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from ._auth import SESSION_PATH, ApiKeyStrategy, OAuthStrategy
from ._core import DEFAULT_BASE_URL, Operation, RetryPolicy, camelize, raise_for_status, run_async, run_sync
from ._models import OAuthData, RedirectSession, RefreshToken, Tokens

__all__ = ["AsyncClient", "Client", "create_async_client", "create_client", "redirects"]

Strategy = OAuthStrategy | ApiKeyStrategy
T = TypeVar("T")


class _RedirectsModule:
    """Marker for ``modules={"redirects": redirects}``, as ``@wix/redirects`` is in JS."""

    name = "redirects"


redirects = _RedirectsModule()


def _create_session_op(strategy: Strategy, base_url: str, params: dict[str, Any]) -> Operation[RedirectSession]:
    headers = yield from strategy._op_auth_headers(base_url)
    body = camelize({k: v for k, v in params.items() if v is not None})
    response = yield httpx.Request("POST", base_url + SESSION_PATH, json=body, headers=headers)
    return RedirectSession.from_wire(raise_for_status(response))


class _Base:
    def __init__(self, auth: Strategy, base_url: str, modules: dict[str, Any] | None,
                 retry: RetryPolicy | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.strategy = auth
        self.retry = retry or RetryPolicy()
        self.modules = dict(modules or {"redirects": redirects})


class _SyncRedirects:
    def __init__(self, client: Client) -> None:
        self._client = client

    def create_redirect_session(self, *, ecom_checkout: dict[str, Any] | None = None,
                                bookings_checkout: dict[str, Any] | None = None,
                                events_checkout: dict[str, Any] | None = None,
                                paid_plans_checkout: dict[str, Any] | None = None,
                                login: dict[str, Any] | None = None, logout: dict[str, Any] | None = None,
                                auth: dict[str, Any] | None = None, stores_product: dict[str, Any] | None = None,
                                bookings_book: dict[str, Any] | None = None,
                                ecom_order_payment_request: dict[str, Any] | None = None,
                                callbacks: dict[str, str] | None = None, preferences: dict[str, Any] | None = None,
                                origin: str | None = None) -> RedirectSession:
        params = dict(locals())
        del params["self"]
        c = self._client
        return c._run(_create_session_op(c.strategy, c.base_url, params))


class _AsyncRedirects:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create_redirect_session(self, **params: Any) -> RedirectSession:
        """The async twin of ``Client.redirects.create_redirect_session`` (same keyword arguments)."""
        c = self._client
        return await c._run(_create_session_op(c.strategy, c.base_url, params))


class _SyncOAuth:
    """``client.auth`` for an ``OAuthStrategy``: its local calls plus the network ones, bound."""

    def __init__(self, client: Client, strategy: OAuthStrategy) -> None:
        self._c = client
        self._s = strategy
        self.get_tokens, self.set_tokens, self.logged_in = strategy.get_tokens, strategy.set_tokens, strategy.logged_in
        self.generate_oauth_data, self.parse_from_url = strategy.generate_oauth_data, strategy.parse_from_url

    def generate_visitor_tokens(self, tokens: Tokens | None = None) -> Tokens:
        return self._c._run(self._s._op_generate_visitor_tokens(self._c.base_url, tokens))

    def renew_token(self, refresh_token: RefreshToken) -> Tokens:
        return self._c._run(self._s._op_renew_token(self._c.base_url, refresh_token))

    def get_auth_url(self, oauth_data: OAuthData, *, response_mode: str = "fragment", prompt: str = "login",
                     session_token: str | None = None) -> dict[str, str | None]:
        return self._c._run(self._s._op_get_auth_url(self._c.base_url, oauth_data, response_mode, prompt,
                                                     session_token))

    def get_member_tokens(self, code: str | None, state: str | None, oauth_data: OAuthData) -> Tokens:
        return self._c._run(self._s._op_get_member_tokens(self._c.base_url, code, state, oauth_data))

    def logout(self, original_url: str) -> dict[str, str]:
        return {"logout_url": self._c._run(self._s._op_logout(self._c.base_url, original_url))}


class _AsyncOAuth:
    """``client.auth`` of an async client: the same calls, awaited."""

    def __init__(self, client: AsyncClient, strategy: OAuthStrategy) -> None:
        self._c = client
        self._s = strategy
        self.get_tokens, self.set_tokens, self.logged_in = strategy.get_tokens, strategy.set_tokens, strategy.logged_in
        self.generate_oauth_data, self.parse_from_url = strategy.generate_oauth_data, strategy.parse_from_url

    async def generate_visitor_tokens(self, tokens: Tokens | None = None) -> Tokens:
        return await self._c._run(self._s._op_generate_visitor_tokens(self._c.base_url, tokens))

    async def renew_token(self, refresh_token: RefreshToken) -> Tokens:
        return await self._c._run(self._s._op_renew_token(self._c.base_url, refresh_token))

    async def get_auth_url(self, oauth_data: OAuthData, *, response_mode: str = "fragment", prompt: str = "login",
                           session_token: str | None = None) -> dict[str, str | None]:
        return await self._c._run(self._s._op_get_auth_url(self._c.base_url, oauth_data, response_mode, prompt,
                                                           session_token))

    async def get_member_tokens(self, code: str | None, state: str | None, oauth_data: OAuthData) -> Tokens:
        return await self._c._run(self._s._op_get_member_tokens(self._c.base_url, code, state, oauth_data))

    async def logout(self, original_url: str) -> dict[str, str]:
        return {"logout_url": await self._c._run(self._s._op_logout(self._c.base_url, original_url))}


class Client(_Base):
    def __init__(self, auth: Strategy, base_url: str = DEFAULT_BASE_URL, modules: dict[str, Any] | None = None,
                 retry: RetryPolicy | None = None, http: httpx.Client | None = None) -> None:
        super().__init__(auth, base_url, modules, retry)
        self.http = http or httpx.Client(timeout=30)
        self.auth: Any = _SyncOAuth(self, auth) if isinstance(auth, OAuthStrategy) else auth
        if "redirects" in self.modules:
            self.redirects = _SyncRedirects(self)

    def _run(self, operation: Operation[T]) -> T:
        return run_sync(self.http, operation, self.retry)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    def __init__(self, auth: Strategy, base_url: str = DEFAULT_BASE_URL, modules: dict[str, Any] | None = None,
                 retry: RetryPolicy | None = None, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(auth, base_url, modules, retry)
        self.http = http or httpx.AsyncClient(timeout=30)
        self.auth: Any = _AsyncOAuth(self, auth) if isinstance(auth, OAuthStrategy) else auth
        if "redirects" in self.modules:
            self.redirects = _AsyncRedirects(self)

    async def _run(self, operation: Operation[T]) -> T:
        return await run_async(self.http, operation, self.retry)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def create_client(*, auth: Strategy, modules: dict[str, Any] | None = None, base_url: str = DEFAULT_BASE_URL,
                  retry: RetryPolicy | None = None, http: httpx.Client | None = None) -> Client:
    """A client, as ``createClient`` in the JS SDK.

    >>> client = create_client(modules={"redirects": redirects}, auth=OAuthStrategy(client_id="..."))
    >>> session = client.redirects.create_redirect_session(ecom_checkout={"checkout_id": "..."})
    """
    return Client(auth, base_url, modules, retry, http)


def create_async_client(*, auth: Strategy, modules: dict[str, Any] | None = None, base_url: str = DEFAULT_BASE_URL,
                        retry: RetryPolicy | None = None, http: httpx.AsyncClient | None = None) -> AsyncClient:
    """The async twin of :func:`create_client`."""
    return AsyncClient(auth, base_url, modules, retry, http)
