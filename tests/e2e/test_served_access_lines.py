"""A served process writes exactly one access line per request, its own (uvicorn's access logger
is silent), every one of them written by the time it exits, in the order the requests ended."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.live import free_port, wait_up


def test_one_access_line_per_request_and_none_from_uvicorn(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "headless_redirects.cli", "serve", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_up(url, "/healthz", proc=proc)
        with httpx.Client() as client:
            ids = [client.get(f"{url}/healthz").headers["x-wix-request-id"] for _ in range(5)]
            ids.append(client.get(f"{url}/r/nope").headers["x-wix-request-id"])
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines()]
    assert not [e for e in lines if e["logger"] == "uvicorn.access"]
    access = [e for e in lines if e["logger"] == "headless_redirects.access" and e["request_id"] in ids]
    assert [e["request_id"] for e in access] == ids
    assert [(e["route"], e["status"]) for e in access] == [("/healthz", 200)] * 5 + [("/r/{code}", 404)]
