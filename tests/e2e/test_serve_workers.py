"""``serve --workers N``: /metrics adds up the workers through a multiprocess folder, which serve
removes when it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.live import free_port, wait_up


def test_the_metrics_folder_of_several_workers_is_removed_on_exit(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADLESS_REDIRECTS_", "PROMETHEUS_"))}
    env.update(HEADLESS_REDIRECTS_DATABASE_URL=f"sqlite:///{tmp_path}/w.db", TMPDIR=str(scratch))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "headless_redirects.cli", "serve", "--port", str(port),
                             "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(f"http://127.0.0.1:{port}")
        assert [p.name for p in scratch.iterdir() if p.name.startswith("headless-redirects-metrics-")]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert [p.name for p in scratch.iterdir() if p.name.startswith("headless-redirects-metrics-")] == []
