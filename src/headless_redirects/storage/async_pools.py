"""The async connection pools of a PostgreSQL database: one per event loop, closed with it.

asyncpg connections belong to the event loop that opened them. A server has one loop per
worker process, so in practice this is one pool per worker, sized for it and kept for the
worker's life. Tests run apps on short-lived loops too (Starlette's ``TestClient`` starts one
per request), so a pool is made for each loop that asks, and a small task parked on that loop
closes the pool when the loop shuts down (``asyncio.run`` and anyio cancel the tasks still
pending on a loop before closing it; the task's ``finally`` closes the connections then, on
their own loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["AsyncPools"]


class AsyncPools:
    def __init__(self, make: Callable[[], AsyncEngine]) -> None:
        self._make = make
        self._by_loop: dict[asyncio.AbstractEventLoop, AsyncEngine] = {}
        self._closers: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        self.dialect = make().dialect  # for compiling statements; this engine never connects

    def current(self) -> AsyncEngine:
        """The pool of the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        engine = self._by_loop.get(loop)
        if engine is None:
            engine = self._make()
            with self._lock:
                self._by_loop[loop] = engine
            closer = loop.create_task(self._close_with_loop(loop, engine), name="close-pg-pool")
            self._closers.add(closer)
            closer.add_done_callback(self._closers.discard)
        return engine

    async def _close_with_loop(self, loop: asyncio.AbstractEventLoop, engine: AsyncEngine) -> None:
        try:
            await loop.create_future()  # until the loop shuts down and cancels this task
        finally:
            with self._lock:
                self._by_loop.pop(loop, None)
            await engine.dispose()

    def close(self) -> None:
        """Close the pools of loops still running elsewhere (a server thread in a test)."""
        with self._lock:
            pools = list(self._by_loop.items())
            self._by_loop.clear()
        for loop, engine in pools:
            if loop.is_closed():
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if loop is running:
                loop.create_task(engine.dispose())
                continue
            try:
                asyncio.run_coroutine_threadsafe(engine.dispose(), loop).result(5)
            except Exception:  # noqa: BLE001 - that loop is stopping: its closer task cleans up
                pass
