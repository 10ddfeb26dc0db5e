"""API rate limits per site and per API key (SPEC §13): 429 ``RESOURCE_EXHAUSTED`` with
``Retry-After`` when a limit is spent.

Limits are settings in the ``limits`` library's notation (``HEADLESS_REDIRECTS_API_RATE_LIMIT_PER_SITE
=1000/second``, ``..._PER_KEY=100/second``; empty: no limit), counted in fixed windows by that
library. With ``HEADLESS_REDIRECTS_REDIS_URL`` the counts live in Redis, so every instance and
worker spends the same budget (one round trip a limit, awaited on the event loop); without it,
each worker process counts alone.

Redis connections belong to the event loop that opened them: each loop gets its own limiter,
closed with the loop (as ``storage.async_pools`` does for the database).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from ..domain.errors import ApplicationError

__all__ = ["ApiLimits"]


class ApiLimits:
    def __init__(self, redis_url: str | None, per_site: str, per_key: str) -> None:
        self.redis_url = redis_url
        self.per_site: RateLimitItem | None = parse(per_site) if per_site.strip() else None
        self.per_key: RateLimitItem | None = parse(per_key) if per_key.strip() else None
        self._by_loop: dict[asyncio.AbstractEventLoop, FixedWindowRateLimiter] = {}
        self._closers: set[asyncio.Task[None]] = set()
        self._local: FixedWindowRateLimiter | None = None

    @property
    def enabled(self) -> bool:
        return self.per_site is not None or self.per_key is not None

    async def check(self, site_id: str, api_key_id: str | None) -> None:
        """Spend one request of the site's budget and the API key's; raise 429 when either is gone."""
        limiter = self._limiter()
        if self.per_site is not None:
            await self._hit(limiter, self.per_site, "site", site_id)
        if self.per_key is not None and api_key_id is not None:
            await self._hit(limiter, self.per_key, "key", api_key_id)

    async def _hit(self, limiter: FixedWindowRateLimiter, item: RateLimitItem, kind: str, ident: str) -> None:
        if await limiter.hit(item, "hr", kind, ident):
            return
        stats = await limiter.get_window_stats(item, "hr", kind, ident)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApplicationError("RESOURCE_EXHAUSTED", f"the {'site' if kind == 'site' else 'API key'} sent more "
                               f"than {item} requests; retry after {retry_after} s", 429, retry_after=retry_after)

    def _limiter(self) -> FixedWindowRateLimiter:
        if not self.redis_url:  # counts in this process, whichever loop asks
            if self._local is None:
                self._local = FixedWindowRateLimiter(MemoryStorage())
            return self._local
        loop = asyncio.get_running_loop()
        limiter = self._by_loop.get(loop)
        if limiter is None:
            storage: Storage = RedisStorage("async+" + self.redis_url, implementation="redispy", key_prefix="hr_limits")
            limiter = self._by_loop[loop] = FixedWindowRateLimiter(storage)
            closer = loop.create_task(self._close_with_loop(loop, storage), name="close-rate-limits")
            self._closers.add(closer)
            closer.add_done_callback(self._closers.discard)
        return limiter

    async def _close_with_loop(self, loop: asyncio.AbstractEventLoop, storage: Storage) -> None:
        try:
            await loop.create_future()  # until the loop shuts down and cancels this task
        finally:
            self._by_loop.pop(loop, None)
            client: Any = getattr(getattr(storage, "bridge", None), "storage", None)
            if client is not None:
                await client.aclose()
