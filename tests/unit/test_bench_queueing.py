"""bench/queueing.py's reading of a fixed-rate run: the access lines' times and durations, and the
windows where the generator's latency was highest, with what the server finished in each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.queueing import access_lines, windows  # noqa: E402


def test_access_lines_are_read_with_their_time_and_duration(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    log.write_text("\n".join([
        json.dumps({"time": "2026-11-28T22:45:43.613Z", "level": "info", "logger": "headless_redirects.access",
                    "message": "POST /oauth2/token 200", "duration_ms": 1.25}),
        json.dumps({"time": "2026-11-28T22:45:43.700Z", "level": "info", "logger": "uvicorn.error",
                    "message": "not an access line"}),
        json.dumps({"time": "2026-11-28T22:45:44.000Z", "level": "info", "logger": "headless_redirects.access",
                    "message": "GET /r/x 302", "duration_ms": 0.5}),
    ]) + "\n")
    found = access_lines(log)
    assert [duration for _, duration in found] == [1.25, 0.5]
    assert found[1][0] - found[0][0] == pytest.approx(0.387)


def test_the_slowest_windows_show_a_queue_in_front_of_the_app() -> None:
    start = 1_800_000_000.0
    # 10 requests due in each of 10 windows of 0.1 s; those due in window 4 waited 50 ms (a queue),
    # those of window 7 waited 20 ms, the rest 1 ms.
    due, latency = [], []
    for w in range(10):
        for i in range(10):
            due.append((start + w * 0.1 + i * 0.01) * 1000)
            latency.append({4: 50.0, 7: 20.0}.get(w, 1.0))
    # The server finished 10 requests a window, 3 in window 4, each in 2 ms by its own clock.
    lines = [(start + w * 0.1 + i * 0.01 + 0.001, 2.0) for w in range(10) for i in range(3 if w == 4 else 10)]
    rows = windows({"due": due, "latency": latency}, lines, rate=100.0)
    assert len(rows) == 3
    queue = next(row for row in rows if "0.4- 0.5 s" in row)
    assert "finished    3 (offered 10)" in queue
    assert "server's clock    2.0 ms" in queue and "median latency   50.0 ms" in queue
    assert any("0.7- 0.8 s" in row and "median latency   20.0 ms" in row for row in rows)
