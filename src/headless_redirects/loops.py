"""The running event loop, found without a system call.

On Python 3.11 ``asyncio.get_running_loop()`` (and every ``asyncio.Future()`` made without a
loop) calls ``getpid()`` to notice a fork: measured with ``strace -c``, three system calls per
served token request. A :class:`LoopCache` remembers the loop it last found and the thread that
runs it: a loop running on the caller's own thread is the caller's (a thread runs one loop at a
time), so only a new thread or a new loop asks asyncio again.
"""

from __future__ import annotations

import asyncio
import threading

__all__ = ["LoopCache"]


class LoopCache:
    __slots__ = ("loop", "thread")

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = 0

    def running(self) -> asyncio.AbstractEventLoop | None:
        """The caller's running loop, or None outside one."""
        loop = self.loop
        if loop is not None and self.thread == threading.get_ident() and loop.is_running():
            return loop
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        self.loop, self.thread = loop, threading.get_ident()
        return loop
