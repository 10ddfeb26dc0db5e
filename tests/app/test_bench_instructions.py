"""``bench/instructions.py``'s counted process drives the app for real: every request of every
endpoint it counts is answered as served (the count itself needs valgrind and a minute a run, so
it is run by hand; see the script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("endpoint", ["session", "anonymous", "short"])
def test_the_counted_process_answers_every_request(endpoint: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "instructions.py"), "--drive", str(ROOT / "src"),
                           "--endpoint", endpoint, "--batches", "3", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
