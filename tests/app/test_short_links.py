"""Short links: GET /r/<code> (SPEC §3)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from headless_redirects.domain.sessions import short_code
from headless_redirects.settings import Settings
from headless_redirects.storage.tables import redirect_sessions
from headless_redirects.web.app import create_app
from headless_redirects.web.hotpath import Edge
from tests.asgi import asgi_request
from tests.conftest import GUID, PUBLIC_URL, World
from tests.identity import CHALLENGE
from tests.integration.test_storage import _session as stored_session


def _session(world: World) -> dict:  # type: ignore[type-arg]
    r = world.create({"ecomCheckout": {"checkoutId": GUID}, "callbacks": {"postFlowUrl": "https://shop.example.com/"}})
    assert r.status_code == 200
    return r.json()["redirectSession"]  # type: ignore[no-any-return]


def test_short_link_redirects_to_the_full_url(world: World) -> None:
    s = _session(world)
    assert s["shortUrl"].startswith(f"{PUBLIC_URL}/r/")
    code = s["shortUrl"].rsplit("/", 1)[1]
    assert len(code) == 22  # the id's 122 random bits
    r = world.client.get(f"/r/{code}", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == s["fullUrl"]
    assert r.headers["referrer-policy"] == "no-referrer"


def test_short_codes_are_distinct(world: World) -> None:
    codes = {_session(world)["shortUrl"] for _ in range(20)}
    assert len(codes) == 20


def test_unknown_code_is_a_404_page(world: World) -> None:
    r = world.client.get("/r/AAAAAAAAAAAAAAAA", follow_redirects=False)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Link not found" in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert world.client.get("/r/x", follow_redirects=False).status_code == 404
    assert world.client.get("/r/" + "_" * 22, follow_redirects=False).status_code == 404


def test_expired_code_is_a_410_page(world: World) -> None:
    s = _session(world)
    with world.services.db.engine.begin() as c:
        c.execute(sa.update(redirect_sessions).where(redirect_sessions.c.id == s["id"]).values(expires_at=1))
    r = world.client.get("/r/" + s["shortUrl"].rsplit("/", 1)[1], follow_redirects=False)
    assert r.status_code == 410
    assert "Link expired" in r.text


def test_sessions_expire_after_60_minutes_and_auth_sessions_after_10(world: World) -> None:
    flow = _session(world)
    auth = world.create({"auth": {"authRequest": {"clientId": world.tenant.client_id, "responseType": "code",
                                                  "redirectUri": "https://shop.example.com/callback",
                                                  "codeChallenge": CHALLENGE, "codeChallengeMethod": "S256"}}})
    assert auth.status_code == 200, auth.text
    for session_id, ttl in ((flow["id"], 3600), (auth.json()["redirectSession"]["id"], 600)):
        stored = world.services.store.sessions.get(session_id)
        assert stored is not None and stored.expires_at - stored.created_at == ttl


def test_session_lifetimes_are_configurable(sqlite_url: str) -> None:
    from tests.conftest import make_world

    w = make_world(sqlite_url, session_ttl=120, auth_session_ttl=30)
    s = _session(w)
    stored = w.services.store.sessions.get(s["id"])
    assert stored is not None and stored.expires_at - stored.created_at == 120
    w.services.db.dispose()


def test_a_short_link_waits_neither_for_the_turns_commit_nor_for_the_checkpointer(tmp_path: Path) -> None:
    """A short link only reads committed rows (``Database.read``): it is answered at once, while
    another request's write of the same turn is still to be committed, and while the
    checkpointer holds the writes."""
    app: Any = create_app(Settings(database_url=f"sqlite:///{tmp_path}/links.db", public_url=PUBLIC_URL,
                                   webhook_dispatcher=False))
    services = app.services
    group = services.db.group
    assert group is not None  # a server's database: writes are grouped
    stored = stored_session(GUID)
    services.store.sessions.insert(stored)  # no loop: committed at once
    path = "/r/" + short_code(stored.id)

    async def get() -> list[Any]:
        sent = await asgi_request(app, "GET", path)
        return [sent[0]["status"], dict(sent[0]["headers"]).get(b"location")]

    async def main() -> list[Any]:
        services.store.sessions.insert(stored_session(GUID))  # another request's write: grouped
        commits = group.commits
        answered = await get()
        seen = [*answered, group.dirty, group.commits - commits]
        await asyncio.sleep(0)  # the group commits
        group.gate = asyncio.get_running_loop().create_future()  # the checkpointer holds the writes
        try:
            seen += await asyncio.wait_for(get(), 5)
        finally:
            gate, group.gate = group.gate, None
            gate.set_result(None)
        return seen

    location = stored.full_url.encode()
    try:
        assert asyncio.run(main()) == [302, location, True, 0, 302, location]
    finally:
        services.db.dispose()


def test_the_edges_own_short_link_answers_as_the_handler_does(database_url: str, caplog: Any) -> None:
    """The Edge answers a short link itself (``Edge.short_link``: the lookup called at once on
    SQLite, else awaited through ``Database.read``); the middleware chain's handler
    (``HotPath.short_link``) answers the same: status, headers, body, request id, metrics and
    the log line of an unexpected error. On PostgreSQL the lookup runs where its queries are
    awaited (``Database.is_async``), never blocking the loop."""
    from tests.conftest import make_world

    world = make_world(database_url)
    try:
        _edge_and_chain_agree(world, caplog)
    finally:
        world.services.db.dispose()


def _edge_and_chain_agree(world: World, caplog: Any) -> None:
    edge = world.client.app
    on_sqlite = world.services.db.is_sqlite
    assert isinstance(edge, Edge) and edge.read_now == on_sqlite and (edge.lookup_awaited is None) == on_sqlite
    lookup, lookup_awaited, calls = edge.lookup, edge.lookup_awaited, []

    def watched(code: str) -> tuple[str, int] | None:
        calls.append("in a greenlet" if world.services.db.is_async else "on the loop")
        return lookup(code)

    async def watched_awaited(code: str) -> tuple[str, int] | None:
        calls.append("awaited")
        assert lookup_awaited is not None
        return await lookup_awaited(code)

    edge.lookup = watched  # type: ignore[method-assign]
    edge.lookup_awaited = None if on_sqlite else watched_awaited  # type: ignore[assignment]
    live = _session(world)["shortUrl"].rsplit("/", 1)[1]
    expired = _session(world)
    with world.services.db.engine.begin() as c:
        c.execute(sa.update(redirect_sessions).where(redirect_sessions.c.id == expired["id"]).values(expires_at=1))
    requests = [("GET", live), ("HEAD", live), ("GET", expired["shortUrl"].rsplit("/", 1)[1]),
                ("GET", "A" * 22), ("GET", "x")]

    def answers(client: TestClient) -> list[Any]:
        seen = []
        for method, code in requests:
            r = client.request(method, f"/r/{code}", follow_redirects=False)
            request_id = r.headers.pop("x-wix-request-id")
            assert len(request_id) == 32
            seen.append((r.status_code, sorted(r.headers.multi_items()), r.content))
        broken, broken_awaited = edge.lookup, edge.lookup_awaited
        edge.lookup = world.services.sessions.short_link = _broken  # type: ignore[method-assign]
        if broken_awaited is not None:
            edge.lookup_awaited = _broken_awaited  # type: ignore[assignment]
        try:
            r = client.get(f"/r/{live}", follow_redirects=False)
        finally:
            edge.lookup = world.services.sessions.short_link = broken  # type: ignore[method-assign]
            edge.lookup_awaited = broken_awaited
        logged = [rec.request_id for rec in caplog.records if rec.getMessage().startswith("unhandled")]
        assert logged == [r.headers["x-wix-request-id"]]
        caplog.clear()
        seen.append((r.status_code, r.json()))
        return seen

    def counted() -> dict[str, float]:
        text = world.client.get("/metrics").text
        return {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
                if line.startswith("headless_redirects_requests_total{") and "/r/{code}" in line}

    own = answers(world.client)
    # The five lookups of ``requests``: at once on SQLite, the turn's group read on PostgreSQL.
    assert calls == ["on the loop" if on_sqlite else "awaited"] * 5
    counts = [counted()]
    calls.clear()
    sync, awaited_read = edge.read_now, edge.lookup_awaited
    edge.read_now, edge.lookup_awaited = False, None  # awaited through Database.read
    try:
        awaited = answers(world.client)
    finally:
        edge.read_now, edge.lookup_awaited = sync, awaited_read
    assert calls == ["on the loop" if on_sqlite else "in a greenlet"] * 5  # SQLite's read calls at once
    counts.append(counted())
    through_handler = answers(TestClient(edge.ids))  # the middleware chain, down to HotPath's handler
    counts.append(counted())
    assert [a[0] for a in own] == [302, 302, 410, 404, 404, 500]
    assert own == awaited == through_handler
    assert [{k: v * n for k, v in counts[0].items()} for n in (2, 3)] == counts[1:]


def _broken(code: str) -> tuple[str, int] | None:
    raise RuntimeError("the disk is gone")


async def _broken_awaited(code: str) -> tuple[str, int] | None:
    raise RuntimeError("the disk is gone")
