"""/metrics names routes by template only (issue 9: every unknown path under the API prefixes
made a new time series), and counts business events."""

from __future__ import annotations

import re

from tests.conftest import GUID, World


def _series(world: World) -> str:
    r = world.client.get("/metrics")
    assert r.status_code == 200
    return str(r.text)


def test_unknown_paths_under_api_prefixes_add_no_time_series(world: World) -> None:
    before = _series(world).count("headless_redirects_requests_total{")
    for i in range(30):
        for prefix in ("/_api/redirects-api/v1/", "/oauth2/", "/flow/", "/.well-known/", "/headless/"):
            world.client.get(f"{prefix}nope-{i}")
    text = _series(world)
    assert "nope-" not in text
    labels = set(re.findall(r'headless_redirects_requests_total\{method="GET",route="([^"]*)"', text))
    assert "other" in labels
    # a handful of (route, status) series at most, not one per path
    assert text.count("headless_redirects_requests_total{") - before <= 5


def test_routes_with_parameters_are_labelled_by_their_template(world: World) -> None:
    world.client.get(f"/r/{'a' * 22}")
    world.client.get("/_api/oauth2/authorize?clientId=x")
    text = _series(world)
    assert 'route="/r/{code}"' in text
    assert 'route="/_api/oauth2/authorize"' in text


def test_business_counters(world: World) -> None:
    def value(name: str, label: str) -> float:
        found = re.search(rf'{name}_total\{{{label}\}} ([0-9.e+]+)', _series(world))
        return float(found.group(1)) if found else 0.0

    tokens = value("headless_redirects_tokens_issued", 'grant_type="anonymous"')
    sessions = value("headless_redirects_sessions_created", 'intent="ecomCheckout"')
    token = world.visitor()["access_token"]
    r = world.create({"ecomCheckout": {"checkoutId": GUID},
                      "callbacks": {"postFlowUrl": "https://shop.example.com/after"}}, token)
    assert r.status_code == 200
    assert value("headless_redirects_tokens_issued", 'grant_type="anonymous"') == tokens + 1
    assert value("headless_redirects_sessions_created", 'intent="ecomCheckout"') == sessions + 1


def test_completed_sessions_and_idempotent_creates_are_counted(world: World) -> None:
    from tests.identity import path_of, submit_login

    def value(name: str, label: str) -> float:
        found = re.search(rf'{name}_total\{{{label}\}} ([0-9.e+]+)', _series(world))
        return float(found.group(1)) if found else 0.0

    created = value("headless_redirects_sessions_created", 'intent="login"')
    completed = value("headless_redirects_sessions_completed", 'intent="login"')
    world.services.members.create(world.tenant.site_id, "count@example.com", "long enough")
    r = world.client.post("/_api/redirects-api/v1/redirect-session",
                          json={"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/a"}},
                          headers={"Authorization": world.tenant.api_key, "wix-site-id": world.tenant.site_id,
                                   "Idempotency-Key": "count-1"})
    assert r.status_code == 200
    page = world.client.get(path_of(r.json()["redirectSession"]["fullUrl"]))
    submit_login(world.client, page.text, action="/flow/login", email="count@example.com", password="long enough")
    assert value("headless_redirects_sessions_created", 'intent="login"') == created + 1
    assert value("headless_redirects_sessions_completed", 'intent="login"') == completed + 1
