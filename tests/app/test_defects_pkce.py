"""Issue 9, item 6: PKCE is required for the authorization code flow (RFC 9700 §2.1.1: public
clients MUST use it), both when an ``auth`` session is created and on a hand-built authorize
URL. The official SDK always sends S256."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import World
from tests.identity import REDIRECT, auth_body


def test_an_auth_session_without_pkce_is_refused(world: World) -> None:
    r = world.create(auth_body(world, codeChallenge=None, codeChallengeMethod=None))
    assert r.status_code == 400
    fields = {v["field"]: v["violatedRule"] for v in r.json()["details"]["validationError"]["fieldViolations"]}
    assert fields == {"auth.authRequest.codeChallenge": "REQUIRED_FIELD",
                      "auth.authRequest.codeChallengeMethod": "REQUIRED_FIELD"}
    only_method = world.create(auth_body(world, codeChallenge=None))
    assert [v["field"] for v in only_method.json()["details"]["validationError"]["fieldViolations"]] == [
        "auth.authRequest.codeChallenge"]


def test_a_hand_built_authorize_url_without_pkce_is_an_error_page(world: World) -> None:
    r = world.client.get(f"/_api/oauth2/authorize?client_id={world.tenant.client_id}&response_type=code"
                         f"&redirect_uri={REDIRECT}&state=s", follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers and "codeChallenge" in r.text
    with world.services.db.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM redirect_sessions")).scalar_one() == 0
