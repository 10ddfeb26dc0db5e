"""The API end to end, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.conftest import GUID, make_world


def test_token_session_short_link_and_refresh(database_url: str) -> None:
    w = make_world(database_url)
    try:
        tokens = w.visitor()
        r = w.create({"ecomCheckout": {"checkoutId": GUID},
                      "callbacks": {"postFlowUrl": "https://shop.example.com/after?x=1"}}, tokens["access_token"])
        assert r.status_code == 200, r.text
        session = r.json()["redirectSession"]
        stored = w.services.store.sessions.get(session["id"])
        assert stored is not None
        assert stored.callbacks == {"postFlowUrl": "https://shop.example.com/after?x=1"}
        assert stored.params == {"checkoutId": GUID}
        assert stored.creator_id == w.services.keys.verify(tokens["access_token"])["sub"]
        code = session["shortUrl"].rsplit("/", 1)[1]
        assert w.client.get(f"/r/{code}", follow_redirects=False).headers["location"] == session["fullUrl"]
        r = w.client.post("/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "refresh_token",
                                                 "refreshToken": tokens["refresh_token"]})
        assert r.status_code == 200
        assert w.client.get("/readyz").json() == {"status": "ok", "database": "ok"}
    finally:
        w.services.db.dispose()
