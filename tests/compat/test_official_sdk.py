"""The official JavaScript SDK (@wix/sdk + @wix/redirects from the npm registry) against a live
server (SPEC §9)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.live import Live, live_server

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def sdk_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Live, dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@wix" / "sdk").is_dir():
        pytest.fail("the compat tests need node and `npm ci --prefix tests/compat` (the README's test command runs it)")
    db = tmp_path_factory.mktemp("compat") / "compat.db"
    with live_server(f"sqlite:///{db}", redirect_uris=["http://127.0.0.1:3000/callback"]) as live:
        env = {"PATH": str(Path(node).parent), "HR_BASE": live.url, "HR_CLIENT_ID": live.tenant.client_id,
               "HR_SITE_ID": live.tenant.site_id, "HR_API_KEY": live.tenant.api_key}
        done = subprocess.run([node, "sdk_flow.mjs"], cwd=HERE, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        yield live, json.loads(done.stdout)


def test_visitor_tokens_and_ecom_checkout(sdk_run: tuple[Live, dict[str, Any]]) -> None:
    live, out = sdk_run
    session = out["ecom"]
    assert session["_id"] and session["fullUrl"].startswith(live.url + "/flow/ecom-checkout?")
    stored = live.services.store.sessions.get(session["_id"])
    assert stored is not None and stored.intent == "ecomCheckout"
    assert stored.callbacks["thankYouPageUrl"] == "http://127.0.0.1:3000/thanks"
    visitor = live.services.keys.verify(out["visitorTokens"]["accessToken"]["value"])
    assert stored.creator_id == visitor["sub"] and visitor["sub_type"] == "VISITOR"
    assert out["visitorTokens"]["refreshToken"]["value"].startswith("hrr_")
    assert session["shortUrl"].startswith(live.url + "/r/")


def test_login_intent(sdk_run: tuple[Live, dict[str, Any]]) -> None:
    live, out = sdk_run
    stored = live.services.store.sessions.get(out["login"]["_id"])
    assert stored is not None and stored.intent == "login"
    assert stored.callbacks == {"postFlowUrl": "http://127.0.0.1:3000/welcome"}


def test_get_auth_url_carries_pkce_and_state(sdk_run: tuple[Live, dict[str, Any]]) -> None:
    live, out = sdk_run
    url = urlsplit(out["authUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == live.url + "/_api/oauth2/authorize"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    data = out["oauthData"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(data["codeVerifier"].encode()).digest()).rstrip(b"=").decode()
    assert q["code_challenge"] == data["codeChallenge"] == expected
    assert q["code_challenge_method"] == "S256"
    assert q["state"] == data["state"]
    assert q["redirect_uri"] == "http://127.0.0.1:3000/callback"
    assert (q["response_type"], q["response_mode"], q["prompt"], q["scope"]) == ("code", "fragment", "login", "offline_access")
    assert q["client_id"] == live.tenant.client_id


def test_api_key_strategy(sdk_run: tuple[Live, dict[str, Any]]) -> None:
    live, out = sdk_run
    stored = live.services.store.sessions.get(out["apiKey"]["_id"])
    assert stored is not None and stored.creator_id is None and stored.site_id == live.tenant.site_id


def test_missing_checkout_id_surfaces_the_field_violation(sdk_run: tuple[Live, dict[str, Any]]) -> None:
    _, out = sdk_run
    err = out["missingField"]
    assert err["thrown"] is True
    violations = err["details"]["validationError"]["fieldViolations"]
    # We answer ``ecomCheckout.checkoutId``; the SDK renames paths to its own argument names
    # (``options`` is createRedirectSession's parameter), exactly as it does against Wix.
    assert [(v["field"], v["violatedRule"]) for v in violations] == [
        ("options.ecomCheckout.checkoutId", "REQUIRED_FIELD")
    ]


def test_expired_access_token_is_renewed_through_refresh_token(sdk_run: tuple[Live, dict[str, Any]]) -> None:
    live, out = sdk_run
    renewal = out["renewal"]
    assert [g["grantType"] for g in renewal["grants"]] == ["refresh_token"]
    assert renewal["grants"][0]["refreshToken"] == out["visitorTokens"]["refreshToken"]["value"]
    assert renewal["newAccessToken"] is True
    stored = live.services.store.sessions.get(renewal["session"]["_id"])
    original = live.services.keys.verify(out["visitorTokens"]["accessToken"]["value"])["sub"]
    assert stored is not None and stored.creator_id == original  # same visitor after renewal


def test_the_sdk_called_the_documented_paths(sdk_run: tuple[Live, dict[str, Any]]) -> None:
    _, out = sdk_run
    assert set(out["calls"]) == {"/oauth2/token", "/_api/redirects-api/v1/redirect-session"}
