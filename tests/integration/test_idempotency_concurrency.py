"""Idempotency under concurrency (SPEC §12): threads hitting one key on a live server store one
session, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import sqlalchemy as sa

from headless_redirects.storage.tables import redirect_sessions
from tests.conftest import GUID, SESSION_PATH
from tests.live import live_server


def test_threads_with_one_key_make_one_session(database_url: str) -> None:
    with live_server(database_url) as live:
        headers = {"Authorization": live.tenant.api_key, "wix-site-id": live.tenant.site_id,
                   "Idempotency-Key": "checkout-42"}
        answers: list[Any] = []
        start = threading.Barrier(12)

        def hit() -> None:
            start.wait()
            with httpx.Client() as client:
                for _ in range(3):
                    r = client.post(live.url + SESSION_PATH, json={"ecomCheckout": {"checkoutId": GUID}},
                                    headers=headers)
                    answers.append((r.status_code, r.content, r.headers.get("idempotent-replayed")))

        threads = [threading.Thread(target=hit) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(answers) == 36
        ok = [a for a in answers if a[0] == 200]
        assert {a[0] for a in answers} <= {200, 409} and ok
        assert len({a[1] for a in ok}) == 1  # every 200 is the same answer, byte for byte
        assert sum(1 for a in ok if a[2] is None) == 1  # exactly one of them was not a replay
        with live.services.db.engine.connect() as c:
            assert c.execute(sa.select(sa.func.count()).select_from(redirect_sessions)).scalar_one() == 1
