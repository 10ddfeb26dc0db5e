"""The SQLite WAL stays bounded under sustained writes (SPEC §7: under 64 MiB).

A real `serve` process on a database of the test's own takes creates at full speed for 25 seconds
from a bounded client (16 keep-alive connections on 127.0.0.1, a fixed duration). The WAL file's
size and header are sampled throughout: it must never reach the limit, and the WAL must have
restarted from its beginning while the writes went on (the checkpointer reset it, not the end of
the load: a restart gives the header new salts). The file is cut back only past
``WAL_FILE_BYTES``: cutting it at every restart cost the commit that restarts it, on the event
loop, 7-12 ms. Every acknowledged session is in the database afterwards: bounding the WAL gave
up nothing of group commit.

Before the fix, the WAL grew by the size of every commit and never wrapped (7.0 GB after 953 k
creates): this test stops the load as soon as the limit is passed, so it fails within seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from headless_redirects.storage.database import WAL_FILE_BYTES
from headless_redirects.storage.tables import redirect_sessions
from tests.live import serve_process

LIMIT = 64 * 1024 * 1024
# Seconds of writes at full speed: at this machine's pace the checkpointer restarts the WAL
# every second or two, and without it the WAL passed the limit within seconds, so 25 s (the suite
# stays near ten minutes on a slow machine) proves the bound as well as a minute did: the test
# asks for at least three restarts.
DURATION = 25.0
CONNECTIONS = 16
SESSION_PATH = "/_api/redirects-api/v1/redirect-session"
BODY = json.dumps({"ecomCheckout": {"checkoutId": "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"},
                   "callbacks": {"postFlowUrl": "https://shop.example.com/after",
                                 "thankYouPageUrl": "https://shop.example.com/thanks"}}).encode()



class Load:
    """Keep-alive HTTP/1.1 POSTs on a few raw connections (httpx's per-request cost would make the
    client, not the server, the bottleneck), while the WAL's size is sampled."""

    def __init__(self, port: int, access: str, wal: Path) -> None:
        self.port = port
        self.request = (f"POST {SESSION_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        f"Authorization: {access}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(BODY)}\r\n\r\n").encode() + BODY
        self.wal = wal
        self.acknowledged = 0
        self.failures: list[str] = []
        self.sizes: list[int] = []
        self.salts: list[bytes] = []  # the WAL header's checkpoint sequence and salts, new at each restart
        self.over = False

    async def connection(self, until: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while time.monotonic() < until and not self.over:
                writer.write(self.request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1]
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                if status != b"200":
                    self.failures.append(f"{status.decode()} {body[:200]!r}")
                    return
                self.acknowledged += 1
        finally:
            writer.close()

    async def sample(self, until: float) -> None:
        while time.monotonic() < until:
            size = self.wal.stat().st_size if self.wal.exists() else 0
            self.sizes.append(size)
            if size >= 32:
                with self.wal.open("rb") as f:
                    self.salts.append(f.read(32)[12:24])
            if size >= LIMIT:
                self.over = True  # stop at once: past the limit, the WAL only grows
                return
            await asyncio.sleep(0.1)

    async def run(self) -> None:
        until = time.monotonic() + DURATION
        await asyncio.gather(self.sample(until), *(self.connection(until) for _ in range(CONNECTIONS)))


def test_wal_stays_bounded_under_sustained_writes(tmp_path: Path) -> None:
    db_path = tmp_path / "soak.db"
    with serve_process(db_path, HEADLESS_REDIRECTS_METRICS="false") as served:
        visitor = httpx.post(f"{served.url}/oauth2/token",
                             json={"clientId": served.tenant["clientId"], "grantType": "anonymous"})
        load = Load(served.port, visitor.json()["access_token"], Path(f"{db_path}-wal"))
        asyncio.run(load.run())

    peak = max(load.sizes)
    assert load.failures == []
    assert peak < LIMIT, f"the WAL reached {peak / 2**20:.0f} MiB after {load.acknowledged} creates"
    # The load wrote far more than the limit in all (a create adds several KiB of WAL frames), so
    # the WAL was restarted while it went on, again and again; its file was cut back only where it
    # had grown past WAL_FILE_BYTES.
    restarts = sum(1 for a, b in zip(load.salts, load.salts[1:], strict=False) if a != b)
    assert restarts >= 3, f"the WAL restarted {restarts} times in {load.acknowledged} creates"
    cuts = [(a, b) for a, b in zip(load.sizes, load.sizes[1:], strict=False) if b < a]
    assert all(a > WAL_FILE_BYTES for a, _ in cuts), f"the WAL file was cut back from {cuts}"
    engine = sa.create_engine(f"sqlite:///{db_path}")
    with engine.connect() as c:
        stored = int(c.execute(sa.select(sa.func.count()).select_from(redirect_sessions)).scalar_one())
    engine.dispose()
    assert stored >= load.acknowledged > 0  # every acknowledged create is in the database
