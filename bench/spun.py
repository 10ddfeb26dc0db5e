"""The bare ASGI app of ``bench/bare.py`` made slower by a fixed busy wait before each request
(``BENCH_SPIN_US`` microseconds of CPU on the server's thread, no system call): a reference for
what a given amount of an app's own work costs a served request on this machine, kernel and
generator included (``bench/served.py --spin``). Not a baseline: the ratios of SPEC §7 are to
``bench.bare``."""

from __future__ import annotations

import os
import time
from typing import Any

from bench.bare import app as bare

SPIN_SECONDS = float(os.environ.get("BENCH_SPIN_US", "0")) / 1e6


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        spin(SPIN_SECONDS)
    await bare(scope, receive, send)


def spin(seconds: float) -> None:
    """Keep the thread busy for ``seconds`` (by the monotonic clock)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
