"""``create_client`` and ``create_async_client``: the same calls, sync or async, one core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any, TypeVar, Unpack

import httpx

from ._auth import ApiKeyStrategy, OAuthStrategy
from ._core import DEFAULT_BASE_URL, Operation, RetryPolicy, run_async, run_sync
from ._intents import CreateRedirectSessionParams
from ._models import (
    OAuthData,
    RedirectSession,
    RedirectSessionInfo,
    RedirectSessionsPage,
    RefreshToken,
    SessionState,
    Tokens,
)
from ._sessions import create_session_op, expire_session_op, get_session_op, list_page_op, list_query

__all__ = ["AsyncClient", "Client", "create_async_client", "create_client", "redirects"]

Strategy = OAuthStrategy | ApiKeyStrategy
T = TypeVar("T")


class _RedirectsModule:
    """Marker for ``modules={"redirects": redirects}``, as ``@wix/redirects`` is in JS."""

    name = "redirects"


redirects = _RedirectsModule()


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

    def create_redirect_session(self, *, idempotency_key: str | None = None,
                                **params: Unpack[CreateRedirectSessionParams]) -> RedirectSession:
        """A redirect session for exactly one intent (a keyword per intent, typed by
        ``CreateRedirectSessionParams``), e.g. ``create_redirect_session(ecom_checkout={"checkout_id": ID})``.
        Sent with an ``Idempotency-Key`` (a fresh random one unless ``idempotency_key`` is
        given), which the SDK's own retries reuse."""
        c = self._client
        return c._run(create_session_op(c.strategy, c.base_url, params, idempotency_key))

    def get_redirect_session(self, session_id: str) -> RedirectSessionInfo:
        """A session this caller may see (an API key: its site's; a token: the ones it created)."""
        c = self._client
        return c._run(get_session_op(c.strategy, c.base_url, session_id))

    def list_redirect_sessions(self, *, state: SessionState | str | None = None, intent: str | None = None,
                               created_from: datetime | str | None = None, created_to: datetime | str | None = None,
                               limit: int | None = None, cursor: str | None = None) -> Iterator[RedirectSessionsPage]:
        """Pages of sessions, newest first; each page is fetched when the iteration reaches it."""
        query = list_query(state, intent, created_from, created_to, limit)
        return self._pages(query, cursor)

    def _pages(self, query: dict[str, str], cursor: str | None) -> Iterator[RedirectSessionsPage]:
        c = self._client
        while True:
            page = c._run(list_page_op(c.strategy, c.base_url, query, cursor))
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def expire_redirect_session(self, session_id: str) -> RedirectSessionInfo:
        """End a CREATED or OPENED session now; ``SessionAlreadyFinished`` for a finished one."""
        c = self._client
        return c._run(expire_session_op(c.strategy, c.base_url, session_id))


class _AsyncRedirects:
    """``client.redirects`` of an async client: the same calls, awaited (the list: ``async for``)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create_redirect_session(self, *, idempotency_key: str | None = None,
                                      **params: Unpack[CreateRedirectSessionParams]) -> RedirectSession:
        """The async twin of ``Client.redirects.create_redirect_session``."""
        c = self._client
        return await c._run(create_session_op(c.strategy, c.base_url, params, idempotency_key))

    async def get_redirect_session(self, session_id: str) -> RedirectSessionInfo:
        c = self._client
        return await c._run(get_session_op(c.strategy, c.base_url, session_id))

    def list_redirect_sessions(self, *, state: SessionState | str | None = None, intent: str | None = None,
                               created_from: datetime | str | None = None, created_to: datetime | str | None = None,
                               limit: int | None = None,
                               cursor: str | None = None) -> AsyncIterator[RedirectSessionsPage]:
        """An async iterator over the pages: ``async for page in client.redirects.list_redirect_sessions()``."""
        query = list_query(state, intent, created_from, created_to, limit)
        return self._pages(query, cursor)

    async def _pages(self, query: dict[str, str], cursor: str | None) -> AsyncIterator[RedirectSessionsPage]:
        c = self._client
        while True:
            page = await c._run(list_page_op(c.strategy, c.base_url, query, cursor))
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def expire_redirect_session(self, session_id: str) -> RedirectSessionInfo:
        c = self._client
        return await c._run(expire_session_op(c.strategy, c.base_url, session_id))


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
