"""Failed-login counters in Redis (with ``HEADLESS_REDIRECTS_REDIS_URL``), shared by every
instance: the same three calls as ``IdentityStore``'s database counters, which serve without
Redis. A fixed window per key: the first failure starts it (``EXPIRE ... NX``).

Logins are rare and already wait ~100 ms for argon2 in a thread, so these calls use redis-py's
blocking client (one short round trip each), like the database counters they replace.
"""

from __future__ import annotations

import redis

__all__ = ["RedisFailures"]

_PREFIX = "hr:login-failures:"


class RedisFailures:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def failures(self, key: str, now: int, window: int) -> int:
        value = self.client.get(_PREFIX + key)
        return int(value) if value is not None else 0

    def record_failure(self, key: str, now: int, window: int) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(_PREFIX + key)
            pipe.expire(_PREFIX + key, window, nx=True)
            pipe.execute()

    def clear_failures(self, key: str) -> None:
        self.client.delete(_PREFIX + key)

    def close(self) -> None:
        self.client.close()
