"""CPU time the hypervisor took from this machine while a run lasted ("steal" in ``/proc/stat``).

On a shared virtual machine the host now and then runs something else on our CPUs. The guest sees
that time as steal: for the moment it lasts the machine has fewer cores than it thinks. When the
server runs at half its maximum rate, a 20 % loss of its CPU for a few hundred milliseconds is
enough to build a queue. That queue is the p99 that moves between runs of the same code.

``StealMeter`` samples ``/proc/stat`` every ``interval`` seconds in a thread while a run lasts.
``split_p99`` then puts each request in the half-second window it fell due in. It gives the p99
of the requests due where the machine kept its CPUs: it leaves out the windows with at least
``STOLEN`` of the machine's CPU time stolen, and the window after each (the queue they left
takes a moment to drain).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

WINDOW = 0.5  # seconds
TICK = os.sysconf("SC_CLK_TCK")
STOLEN = 0.05  # of the machine's CPU time in a window


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of process ``pid`` so far (its threads' included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def _ticks() -> tuple[int, int]:
    """(steal, all) clock ticks of all CPUs since boot (the first line of ``/proc/stat``)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    return fields[7], sum(fields[:8])


@dataclass
class Steal:
    fraction: float  # of the machine's CPU time over the run
    worst: float  # in the worst window
    windows: dict[int, float] = field(default_factory=dict)  # window index (since epoch) -> fraction


class StealMeter:
    """``with StealMeter() as meter: ...``; then ``meter.result``. Without ``/proc/stat`` (not
    Linux) the result says nothing was stolen."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []  # (epoch seconds, steal, all)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steal-meter", daemon=True)
        self.available = Path("/proc/stat").exists()

    def _sample(self) -> None:
        steal, total = _ticks()
        self.samples.append((time.time(), steal, total))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> StealMeter:
        if self.available:
            self._sample()
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.available:
            self._stop.set()
            self._thread.join()
            self._sample()

    @property
    def result(self) -> Steal:
        if len(self.samples) < 2:
            return Steal(0.0, 0.0)
        first, last = self.samples[0], self.samples[-1]
        fraction = (last[1] - first[1]) / max(1, last[2] - first[2])
        per_window: dict[int, list[int]] = {}
        for (_, steal0, all0), (t1, steal1, all1) in itertools.pairwise(self.samples):
            acc = per_window.setdefault(math.floor(t1 / WINDOW), [0, 0])
            acc[0] += steal1 - steal0
            acc[1] += all1 - all0
        windows = {w: s / a for w, (s, a) in per_window.items() if a}
        return Steal(fraction, max(windows.values(), default=0.0), windows)


def split_p99(due_epoch: list[float], latency_ms: list[float], steal: Steal) -> tuple[float, int]:
    """The p99 (ms) of the requests due outside the stolen windows (and the window after each),
    and how many requests that left out."""
    stolen = {w for w, f in steal.windows.items() if f >= STOLEN}
    stolen |= {w + 1 for w in stolen}
    kept = sorted(lat for due, lat in zip(due_epoch, latency_ms, strict=True)
                  if math.floor(due / WINDOW) not in stolen)
    left_out = len(latency_ms) - len(kept)
    if not kept:
        return math.inf, left_out
    return kept[min(len(kept) - 1, math.ceil(0.99 * len(kept)) - 1)], left_out
