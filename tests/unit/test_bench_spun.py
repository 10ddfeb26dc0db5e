"""bench/spun.py: the bare app's answers, after a busy wait of at least the time asked for."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import bare, spun  # noqa: E402


def _answer(app: Any, method: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    bodies = [{"type": "http.request", "body": b'{"a":', "more_body": True}, {"type": "http.request", "body": b"1}"}]

    async def receive() -> dict[str, Any]:
        return bodies.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "method": method, "path": "/r/x"}, receive, send))
    return sent


def test_it_answers_as_the_bare_app() -> None:
    for method in ("GET", "POST"):
        assert _answer(spun.app, method) == _answer(bare.app, method)
    assert _answer(spun.app, "POST")[1]["body"] == b'{"a":1}'


def test_the_wait_lasts_at_least_the_time_asked_for() -> None:
    started = time.perf_counter()
    spun.spin(0.02)
    assert time.perf_counter() - started >= 0.02
