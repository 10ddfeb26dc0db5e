"""A served token is signed by the server's signing process (``service.signer``): a real `serve`
starts one child process for it, its tokens verify against the published JWK Set, a killed
worker costs no request (they are signed inline meanwhile) and another takes its place, and the
worker ends with the server."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
from pathlib import Path

import httpx
import jwt

from tests.live import children_running, serve_process


def _wait_for_worker(parent: int, other_than: int = 0) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        workers = [pid for pid in children_running(parent, b"signing_worker") if pid != other_than]
        if workers:
            return workers[0]
        time.sleep(0.1)
    raise AssertionError("serve started no signing worker")


def test_served_tokens_are_signed_by_the_worker_process(tmp_path: Path) -> None:
    with serve_process(tmp_path / "signing.db") as served:
        url, pid = served.url, served.proc.pid
        body = {"clientId": served.tenant["clientId"], "grantType": "anonymous"}
        keys = jwt.PyJWKSet.from_dict(httpx.get(f"{url}/oauth2/jwks").json())

        def tokens(count: int) -> list[str]:
            with httpx.Client() as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: client.post(f"{url}/oauth2/token", json=body), range(count)))
            assert [a.status_code for a in answers] == [200] * count
            return [a.json()["access_token"] for a in answers]

        def verified(token: str) -> dict[str, object]:
            key = keys[jwt.get_unverified_header(token)["kid"]]
            return dict(jwt.decode(token, key.key, algorithms=["ES256"], options={"verify_aud": False}))

        tokens(1)  # the first token starts the worker
        first = _wait_for_worker(pid)
        assert all(verified(t)["client_id"] == body["clientId"] for t in tokens(40))

        os.kill(first, signal.SIGKILL)
        # No request fails while the worker is gone; the next start after it takes its place.
        assert all(verified(t)["client_id"] == body["clientId"] for t in tokens(40))
        time.sleep(1.2)
        tokens(1)
        second = _wait_for_worker(pid, other_than=first)
        assert all(verified(t)["client_id"] == body["clientId"] for t in tokens(20))
    deadline = time.monotonic() + 10
    while Path(f"/proc/{second}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    status = Path(f"/proc/{second}/stat")
    assert not status.exists() or status.read_text().rsplit(")", 1)[1].split()[0] == "Z", "the worker outlived serve"
