"""/metrics names routes by template only (issue 9: every unknown path under the API prefixes
made a new time series), and counts business events."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from prometheus_client import CollectorRegistry

from headless_redirects.web.metrics import Metrics
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


# --- counted once a loop turn (issue 12 item 4) ---------------------------------------------------

DURATIONS = (0.0004, 0.001, 0.0031, 0.02, 0.02, 0.7, 3.5)  # on, between and past the bucket bounds


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in registry.collect() for s in family.samples if not s.name.endswith("_created")}


def _reference() -> CollectorRegistry:
    """What prometheus_client's own ``inc`` and ``observe`` make of the same requests."""
    metrics = Metrics()
    registry = metrics.registry
    for seconds in DURATIONS:
        metrics.requests.labels("GET", "/r/{code}", "302").inc()
        metrics.duration.labels("/r/{code}").observe(seconds)
    metrics.requests.labels("other", "other", "405").inc()
    metrics.duration.labels("other").observe(0.002)
    return registry


def _observe_all(metrics: Metrics) -> None:
    for seconds in DURATIONS:
        metrics.observe_route("GET", "/r/{code}", 302, seconds)
    metrics.observe("BREW", "/nope", 405, 0.002)


def test_a_turns_requests_are_counted_at_its_end_as_prometheus_counts_them() -> None:
    metrics = Metrics()

    async def turn() -> tuple[dict[Any, float], dict[Any, float]]:
        _observe_all(metrics)
        during = _samples(metrics.registry)
        await asyncio.sleep(0)
        return during, _samples(metrics.registry)

    during, after = asyncio.run(turn())
    assert not any(name == "headless_redirects_requests_total" for name, _ in during)  # not yet
    assert after == _samples(_reference())
    asyncio.run(turn())  # a second turn adds as much again: nothing counted twice or left out
    assert _samples(metrics.registry)[("headless_redirects_requests_total",
                                       (("method", "GET"), ("route", "/r/{code}"), ("status", "302")))] == 14


def test_the_exposition_and_requests_off_a_loop_are_counted_at_once() -> None:
    metrics = Metrics()

    async def scraped_in_the_same_turn() -> bytes:
        metrics.observe_route("POST", "/oauth2/token", 200, 0.004)
        return metrics.exposition()

    text = asyncio.run(scraped_in_the_same_turn()).decode()
    assert 'headless_redirects_requests_total{method="POST",route="/oauth2/token",status="200"} 1.0' in text
    off_loop = Metrics()
    _observe_all(off_loop)
    assert _samples(off_loop.registry) == _samples(_reference())
