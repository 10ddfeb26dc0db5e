"""``serve --workers N``: /metrics adds up the workers through a multiprocess folder, which serve
removes when it ends; on SQLite the workers take turns at writing."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.live import free_port, serve_process, wait_up


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


def test_two_workers_on_sqlite_take_turns_at_writing_and_lose_nothing(tmp_path: Path) -> None:
    """Creates sent at once to ``serve --workers 2`` on SQLite: the workers write through the
    lease beside the database file (``storage.write_lease``), and every create is answered and
    stored."""
    database = tmp_path / "w.db"
    with serve_process(database, HEADLESS_REDIRECTS_WORKERS="2") as server:
        headers = {"Authorization": server.tenant["apiKey"], "wix-site-id": server.tenant["siteId"]}
        body = {"ecomCheckout": {"checkoutId": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"},
                "callbacks": {"postFlowUrl": "https://shop.example.com/after"}}

        async def main() -> list[httpx.Response]:
            limit = asyncio.Semaphore(32)
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                async def create() -> httpx.Response:
                    async with limit:
                        return await client.post("/_api/redirects-api/v1/redirect-session", json=body,
                                                 headers=headers)

                return await asyncio.gather(*(create() for _ in range(300)))

        answers = asyncio.run(main())
        assert [a.status_code for a in answers] == [200] * 300
        ids = {a.json()["redirectSession"]["id"] for a in answers}
        assert len(ids) == 300
        assert (tmp_path / "w.db-writer").exists() and (tmp_path / "w.db-writer-queue").exists()
    stored = sqlite3.connect(database)
    found = {row[0] for row in stored.execute("SELECT id FROM redirect_sessions")}
    stored.close()
    assert ids <= found
