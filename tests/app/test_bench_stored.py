"""The flatness bench's fixtures (bench/stored.py): the sessions it stores are live sessions of
their own that the service answers, and its reading of a memory soak."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from headless_redirects.domain.sessions import session_id_from_short_code
from tests.conftest import GUID, World

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.stored import Soak, fill, sample_codes  # noqa: E402


def test_filled_sessions_are_live_sessions_of_their_own(world: World, sqlite_url: str) -> None:
    token = world.visitor()["access_token"]
    made = world.create({"ecomCheckout": {"checkoutId": GUID}, "callbacks": {"postFlowUrl": "https://shop.example.com/"}},
                        token).json()["redirectSession"]
    db = Path(sqlite_url.removeprefix("sqlite:///"))
    fill(db, made["id"], 299, per_second=100, batch=120)  # three batches, the last one short

    codes = sample_codes(db, most=60)
    assert len(codes) == 60
    answered = set()
    for code in codes:
        r = world.client.get(f"/r/{code}", follow_redirects=False)
        assert r.status_code == 302, r.text
        session_id = session_id_from_short_code(code)
        assert r.headers["location"] == made["fullUrl"].replace(made["id"], session_id)  # type: ignore[arg-type]
        answered.add(r.headers["location"])
        stored = world.services.store.sessions.get(session_id)  # type: ignore[arg-type]
        assert stored is not None and stored.site_id == world.tenant.site_id and stored.state == "CREATED"
    assert len(answered) == 60

    conn = sqlite3.connect(db)
    try:
        count, hashes, ids, oldest, soonest = conn.execute(
            "SELECT count(*), count(DISTINCT session_token_hash), count(DISTINCT id), min(created_at), "
            "min(expires_at) FROM redirect_sessions").fetchone()
        (created,) = conn.execute("SELECT created_at FROM redirect_sessions WHERE id = ?", (made["id"],)).fetchone()
        copies = conn.execute("SELECT id, created_at FROM redirect_sessions WHERE id != ? ORDER BY rowid",
                              (made["id"],)).fetchall()
    finally:
        conn.close()
    assert (count, hashes, ids) == (300, 300, 300)
    assert oldest == created - 2  # 299 sessions at 100 a second, back from the template's
    assert soonest > time.time() + 3000  # every one live
    # Ids as the service makes them: time-ordered (version 7), carrying their creation time.
    assert [int(i.replace("-", "")[:12], 16) // 1000 for i, _ in copies] == [at for _, at in copies]
    assert [i for i, _ in copies] == sorted(i for i, _ in copies)


def _soak(rss: list[int]) -> Soak:
    return Soak(len(rss) - 1, 40_000 * (len(rss) - 1), 0, [(float(t), r) for t, r in enumerate(rss)], settle=10.0)


def test_a_flat_soak_is_bounded_and_a_leak_is_not() -> None:
    flat = _soak([100 << 20] * 5 + [120 << 20] * 56)  # grows in the warm-up, then stays
    assert flat.bounded()
    assert flat.slope() == 0.0
    assert flat.halves() == (120 << 20, 120 << 20)
    leak = _soak([(120 << 20) + t * 40_000 * 100 for t in range(61)])  # 100 bytes a request
    assert not leak.bounded()
    assert abs(leak.bytes_per_request() - 100) < 0.01
    assert leak.rss_at(30) == (120 << 20) + 30 * 40_000 * 100
