"""Short links: GET /r/<code> (SPEC §3)."""

from __future__ import annotations

import sqlalchemy as sa

from headless_redirects.storage.tables import redirect_sessions
from tests.conftest import GUID, PUBLIC_URL, World
from tests.identity import CHALLENGE


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
