"""/openapi.json, the error bodies on every non-2xx API response, and x-wix-request-id."""

from __future__ import annotations

from tests.conftest import World


def test_openapi_describes_the_routes_and_both_error_bodies(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/_api/redirects-api/v1/redirect-session", "/redirect-session/v1/redirect-session",
                 "/headless/v1/redirect-session", "/oauth2/token", "/oauth2/token-info"):
        assert path in doc["paths"], path
    schemas = doc["components"]["schemas"]
    assert "fieldViolations" in str(schemas["ValidationError"])
    assert "applicationError" in str(schemas["ApplicationError"])
    responses = doc["paths"]["/_api/redirects-api/v1/redirect-session"]["post"]["responses"]
    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationError")
    assert responses["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ApplicationError")
    assert set(schemas["CreateRedirectSessionRequest"]["properties"]) >= {
        "ecomCheckout", "auth", "ecomOrderPaymentRequest", "callbacks", "preferences", "origin"}


def test_every_response_has_a_request_id(world: World) -> None:
    ids = set()
    for r in (world.client.get("/healthz"), world.client.get("/nope"), world.client.get("/openapi.json"),
              world.client.post("/oauth2/token", json={}), world.client.get("/_api/redirects-api/v1/redirect-session")):
        ids.add(r.headers["x-wix-request-id"])
    assert len(ids) == 5


def test_unknown_api_route_and_wrong_method_use_the_error_body(world: World) -> None:
    r = world.client.post("/_api/unknown")
    assert r.status_code == 404 and r.json()["details"]["applicationError"]["code"] == "NOT_FOUND"
    r = world.client.get("/_api/redirects-api/v1/redirect-session")
    assert r.status_code == 405 and r.json()["details"]["applicationError"]["code"] == "METHOD_NOT_ALLOWED"


def test_internal_errors_leak_nothing(world: World, monkeypatch: object) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    # storing is where both the fast path (common shapes) and the full validator's path end
    world.services.sessions.store_session = boom  # type: ignore[method-assign]
    for body in ({"login": {}}, {"login": {}, "callbacks": {"post_flow_url": "https://shop.example.com/x"}}):
        r = world.create(body)
        assert r.status_code == 500
        assert r.json()["details"]["applicationError"]["code"] == "INTERNAL"
        assert "secret" not in r.text and r.headers["x-wix-request-id"]


def test_hot_paths_answer_405_for_other_methods(world: World) -> None:
    for path in ("/oauth2/token", "/headless/v1/redirect-session", "/redirect-session/v1/redirect-session"):
        r = world.client.put(path)
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert r.json()["details"]["applicationError"]["code"] == "METHOD_NOT_ALLOWED"
        assert r.headers["x-wix-request-id"]
    r = world.client.post("/r/AAAAAAAAAAAAAAAAAAAAAA")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD" and r.headers["content-type"].startswith("text/html")


def test_metrics_count_requests_by_route_template(world: World) -> None:
    world.client.get("/r/AAAAAAAAAAAAAAAAAAAAAA")
    world.client.get("/r/BBBBBBBBBBBBBBBBBBBBBB")
    world.create({"login": {}})
    text = world.client.get("/metrics").text
    assert 'headless_redirects_requests_total{method="GET",route="/r/{code}",status="404"} 2.0' in text
    assert 'route="/_api/redirects-api/v1/redirect-session",status="200"} 1.0' in text
    assert "AAAAAAAA" not in text  # raw paths never become labels
    assert "headless_redirects_request_seconds_bucket" in text


def test_logs_are_json_with_the_request_id(world: World, capsys: object) -> None:
    import json
    import logging

    from headless_redirects.logs import JsonFormatter

    record = logging.LogRecord("headless_redirects.errors", logging.ERROR, __file__, 1, "unhandled error", None, None)
    record.request_id = "abc123"
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc123" and line["level"] == "error" and line["message"] == "unhandled error"


def test_metrics_can_be_turned_off(sqlite_url: str) -> None:
    from tests.conftest import make_world

    w = make_world(sqlite_url, metrics=False)
    assert w.client.get("/metrics").status_code == 404
    w.services.db.dispose()
