"""A process killed under load loses no acknowledged session (SPEC §8): sessions created against
a real `serve` process, which is then killed with SIGKILL mid-load, are all there after a restart.
Traffic goes to 127.0.0.1 only and the load is bounded in count and time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.live import free_port, wait_up

CLI = [sys.executable, "-m", "headless_redirects.cli"]



def test_sigkill_under_load_loses_no_acknowledged_session(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env["HEADLESS_REDIRECTS_DATABASE_URL"] = f"sqlite:///{tmp_path}/crash.db"
    tenant = json.loads(subprocess.run([*CLI, "init", "--json"], env=env, capture_output=True, text=True,
                                       check=True).stdout)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    acknowledged: list[str] = []
    stop = threading.Event()

    def load() -> None:
        headers = {"Authorization": tenant["apiKey"], "wix-site-id": tenant["siteId"]}
        with httpx.Client(timeout=5) as client:
            for _ in range(2000):  # bounded
                if stop.is_set():
                    return
                try:
                    r = client.post(f"{url}/_api/redirects-api/v1/redirect-session", headers=headers,
                                    json={"login": {}, "callbacks": {"postFlowUrl": "http://localhost:3000/"}})
                except httpx.TransportError:
                    return  # the server died mid-request: that one was never acknowledged
                if r.status_code == 200:
                    acknowledged.append(r.json()["redirectSession"]["id"])

    try:
        wait_up(url)
        workers = [threading.Thread(target=load) for _ in range(4)]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        stop.set()
        for w in workers:
            w.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert len(acknowledged) >= 200

    restarted = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    try:
        wait_up(url)
        from headless_redirects.storage.database import Database
        from headless_redirects.storage.repository import Store

        db = Database(env["HEADLESS_REDIRECTS_DATABASE_URL"])
        store = Store(db)
        missing = [sid for sid in acknowledged if store.sessions.get(sid) is None]
        db.dispose()
        assert missing == []
    finally:
        restarted.send_signal(signal.SIGINT)
        restarted.wait(20)
