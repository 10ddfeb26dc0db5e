"""The bench's CPU-steal figures (bench/steal.py): which requests count as due in a stolen window,
and the meter's reading of /proc/stat."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.steal import STOLEN, WINDOW, Steal, StealMeter, split_p99  # noqa: E402


def test_requests_due_in_a_stolen_window_and_the_one_after_are_left_out() -> None:
    base = 1_000_000  # a window index, any
    windows = {base: 0.0, base + 1: STOLEN, base + 2: 0.0, base + 3: 0.0}
    steal = Steal(STOLEN / 4, STOLEN, windows)
    # 100 requests due in each window; those of windows base+1 (stolen) and base+2 (after) are slow.
    due, latency = [], []
    for w, ms in ((base, 2.0), (base + 1, 80.0), (base + 2, 40.0), (base + 3, 3.0)):
        for i in range(100):
            due.append((w + i / 100) * WINDOW)
            latency.append(ms)
    p99, left_out = split_p99(due, latency, steal)
    assert left_out == 200
    assert p99 == 3.0


def test_below_the_threshold_nothing_is_left_out() -> None:
    steal = Steal(0.01, STOLEN / 2, {7: STOLEN / 2})
    due = [7 * WINDOW + i / 1000 for i in range(200)]
    latency = [float(i) for i in range(200)]
    p99, left_out = split_p99(due, latency, steal)
    assert left_out == 0
    assert p99 == 197.0  # the 198th of 200 sorted


def test_everything_stolen_has_no_p99() -> None:
    p99, left_out = split_p99([0.1, 0.2], [1.0, 2.0], Steal(1.0, 1.0, {0: 1.0}))
    assert (math.isinf(p99), left_out) == (True, 2)


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc/stat (Linux)")
def test_the_meter_reads_proc_stat_over_a_run() -> None:
    with StealMeter(interval=0.02) as meter:
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            pass
    assert len(meter.samples) >= 5
    times = [t for t, _, _ in meter.samples]
    assert times == sorted(times)
    result = meter.result
    assert 0.0 <= result.fraction <= 1.0
    assert result.windows and all(0.0 <= f <= 1.0 for f in result.windows.values())
    assert result.worst == max(result.windows.values())


def test_the_table_shows_no_p99_where_every_request_was_left_out() -> None:
    from bench.latency import Latency
    from bench.run import unstolen_cell

    kept = Latency(100.0, 100.0, 9.0, 0, p99_unstolen_ms=4.25, left_out=300, answered=1_000)
    assert unstolen_cell(kept) == "4.2 ms (300 of 1,000)"
    every = Latency(100.0, 100.0, 9.0, 0, p99_unstolen_ms=math.inf, left_out=12_655, answered=12_655)
    assert unstolen_cell(every) == "none left (12,655 of 12,655)"
