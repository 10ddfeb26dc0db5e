"""The hot path's shortcuts (issue 12) answer exactly what the general code answers: the access
line written straight to the stream, the ES256 token written without PyJWT, Create Redirect
Session decoded from its bytes and its URL encoded without ``urlencode``."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlencode

import jwt
import pytest
from jwt.algorithms import ECAlgorithm
from starlette.testclient import TestClient

from headless_redirects.domain.intent_shapes import fast_request
from headless_redirects.domain.intents import AppRules, check_against_apps, parse_request
from headless_redirects.settings import Settings
from headless_redirects.web import middleware
from headless_redirects.web.app import create_app
from headless_redirects.web.hotpath import Edge
from tests.app import test_create_session_rules as rules_table
from tests.conftest import ALLOWED_DOMAINS, REDIRECT_URIS, SESSION_PATH, World


def test_the_direct_access_line_is_the_formatters_line(json_logs: io.StringIO) -> None:
    middleware.access_line("GET", "/r/{code}", 302, "r1", 0.25, "203.0.113.9")
    middleware.log.info("%s %s %s", "GET", "/r/{code}", 302, extra={
        "request_id": "r1", "method": "GET", "route": "/r/{code}", "status": 302, "duration_ms": 0.25,
        "client_ip": "203.0.113.9"})
    direct, through_logging = (json.loads(line) for line in json_logs.getvalue().splitlines())
    assert list(direct) == list(through_logging)  # same fields, same order
    direct.pop("time"), through_logging.pop("time")
    assert direct == through_logging


def test_other_logging_set_ups_get_the_logging_call(json_logs: io.StringIO) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    middleware.log.addHandler(Keep())  # a second destination: the line goes through logging
    try:
        middleware.access_line("POST", "/oauth2/token", 200, "r2", 1.5, None)
    finally:
        middleware.log.handlers.clear()
    assert [r.getMessage() for r in records] == ["POST /oauth2/token 200"]
    assert json.loads(json_logs.getvalue())["request_id"] == "r2"


def test_a_token_is_a_standard_es256_jws_with_the_key_id(world: World) -> None:
    token = world.visitor()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": header["kid"], "typ": "JWT"}
    (jwk,) = [k for k in world.services.keys.jwks()["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(token, ECAlgorithm.from_jwk(jwk), algorithms=["ES256"], options={"verify_aud": False})
    assert claims["client_id"] == world.tenant.client_id and claims["sub_type"] == "VISITOR"
    # A rotation changes the key id in the header of the next token; the old token still verifies.
    world.services.keys.rotate()
    newer = world.visitor()["access_token"]
    assert jwt.get_unverified_header(newer)["kid"] != header["kid"]
    assert world.services.tokens.authenticate(token).subject_id == claims["sub"]


# --- Create Redirect Session from raw bytes -----------------------------------------------------

CLIENT = "7d3f4b1c-2a5e-4c8f-9b6d-1e0a2c4f6b8d"
RULES = {CLIENT: AppRules(CLIENT, tuple(ALLOWED_DOMAINS), tuple(REDIRECT_URIS))}


def _bodies() -> Iterator[Any]:
    """Every body of the rule table (accepted and refused), and shapes around the fast path's
    edges: snake_case, unknown fields, nulls, empty strings, duplicates, wrong types."""
    world = SimpleNamespace(tenant=SimpleNamespace(client_id=CLIENT))
    for intent in rules_table.VALID:
        yield rules_table.body_for(intent, world)  # type: ignore[arg-type]
    for intent, path, good, bad, _rule in rules_table.CASES:
        for value in (good, bad):
            body = rules_table.body_for(intent, world)  # type: ignore[arg-type]
            rules_table.set_path(body, path, rules_table._fill(value, world))  # type: ignore[arg-type]
            yield body
    guid = rules_table.GUID
    yield from [
        {"ecom_checkout": {"checkout_id": guid}},
        {"ecomCheckout": {"checkoutId": guid}, "future": 1},
        {"ecomCheckout": {"checkoutId": guid.upper()}, "origin": ""},
        {"ecomCheckout": None, "login": {}},
        {"ecomCheckout": {"checkoutId": guid}, "login": {}},
        {"login": {}, "callbacks": {"postFlowUrl": "", "cartPageUrl": None}, "preferences": None},
        {"login": {}, "preferences": {"additionalQueryParameters": {"": "x"}}},
        {"login": {}, "preferences": {"additionalQueryParameters": {"a\nb": "x"}}},
        {"login": {}, "preferences": {"additionalQueryParameters": {"lang": "fr"}, "checkIfPublish": None}},
        {"bookingsBook": {"resourceId": ""}},
        {"bookingsBook": {}},
        {"paidPlansCheckout": {"planId": guid, "checkoutData": ""}},
        {"storesProduct": {"productSlug": ""}},
        {"eventsCheckout": {"reservationId": guid, "eventSlug": "slug\n"}},
        {"auth": {"authRequest": {**rules_table.AUTH["authRequest"], "clientId": CLIENT, "scope": "", "state": "",
                                  "nonce": "", "sessionToken": "st", "redirectUri": ""}}},
        {"auth": {"authRequest": {**rules_table.AUTH["authRequest"], "clientId": CLIENT, "responseMode": ""}}},
        {"auth": {"authRequest": {**rules_table.AUTH["authRequest"], "clientId": CLIENT}, "prompt": ""}},
        {"auth": {"authRequest": {**rules_table.AUTH["authRequest"], "clientId": CLIENT, "codeChallenge": ""}}},
        {"auth": {"authRequest": None}},
        {"login": []},
        [],
        "login",
    ]


@pytest.mark.parametrize("caller_app", [CLIENT, None])
def test_the_fast_path_accepts_only_what_the_full_validator_accepts_and_as_it_does(caller_app: str | None) -> None:
    accepted = 0
    for body in _bodies():
        raw = json.dumps(body).encode()
        fast = fast_request(raw)
        request, violations = parse_request(json.loads(raw))
        if request is not None:
            violations += check_against_apps(request, RULES, caller_app)
        if fast is not None and not check_against_apps(fast, RULES, caller_app):
            assert not violations, (body, violations)
            assert fast == request, body
            assert list(fast.params) == list(request.params) and list(fast.callbacks) == list(request.callbacks)
            accepted += 1
        else:
            assert fast is None or check_against_apps(fast, RULES, caller_app) == violations, body
    assert accepted > 80  # most of the table's accepted bodies (all but bookingsCheckout) take the fast path


def test_a_duplicated_key_counts_once_the_last_as_in_the_full_validator() -> None:
    raw = b'{"ecomCheckout": {"checkoutId": "x"}, "ecomCheckout": {"checkoutId": "' + rules_table.GUID.encode() + b'"}}'
    fast = fast_request(raw)
    request, violations = parse_request(json.loads(raw))
    assert fast is not None and fast == request and not violations


def test_the_url_is_encoded_as_urlencode_encodes_it(world: World) -> None:
    extra = {"utm": "a b&c=d/é", "plain": "x-y_z.~", "empty": ""}
    r = world.create({"ecomCheckout": {"checkoutId": rules_table.GUID},
                      "preferences": {"additionalQueryParameters": extra}})
    session = r.json()["redirectSession"]
    details = session["urlDetails"]
    assert session["fullUrl"] == details["endpoint"] + "?" + urlencode(details["searchParams"], quote_via=quote)


# --- The Edge answers the hot paths' common requests as the middleware chain does ---------------

ORIGIN = "http://localhost:3000"  # allowed for the world's site (tests/app/test_cors.py)


def _answer(response: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body, with the request id (new each time) checked and set aside."""
    names = [k for k, _ in response.headers.raw]
    assert names.count(b"x-wix-request-id") == 1 and names[-1] == b"x-wix-request-id"
    return response.status_code, response.headers.raw[:-1], response.content


def test_the_edge_answers_as_the_middleware_chain(world: World) -> None:
    edge = world.client.app
    assert isinstance(edge, Edge)
    chain = TestClient(edge.app, raise_server_exceptions=False)  # RequestId -> Cors -> HotPath -> Starlette
    token = world.visitor()["access_token"]
    session = world.create({"ecomCheckout": {"checkoutId": rules_table.GUID}}, token).json()["redirectSession"]
    code = session["shortUrl"].rsplit("/", 1)[1]
    token_body = {"clientId": world.tenant.client_id, "grantType": "anonymous"}
    create = {"ecomCheckout": {"checkoutId": rules_table.GUID}}
    # Requests whose answers are the same each time: compared whole.
    same: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/r/" + code, {}),
        ("HEAD", "/r/" + code, {}),
        ("GET", "/r/" + "A" * 22, {}),                    # no such session: the 404 page
        ("GET", "/r/short", {}),
        ("POST", "/oauth2/token", {"json": {"grantType": "anonymous"}, "headers": {"Origin": ORIGIN}}),
        ("POST", "/oauth2/token", {"content": b"{", "headers": {"content-type": "application/json"}}),
        ("POST", "/oauth2/token", {"json": {**token_body, "grantType": "password"},
                                   "headers": {"Origin": "https://evil.example.com"}}),
        ("POST", SESSION_PATH, {"json": create, "headers": {"Origin": ORIGIN}}),  # no token: 401
        ("POST", SESSION_PATH, {"json": {"login": []}, "headers": {"Authorization": token, "Origin": ORIGIN}}),
    ]
    for method, path, kwargs in same:
        through_edge = _answer(world.client.request(method, path, follow_redirects=False, **kwargs))
        through_chain = _answer(chain.request(method, path, follow_redirects=False, **kwargs))
        assert through_edge == through_chain, (method, path)
    # Requests that make something new (a token, a session): the same status and headers.
    for path, kwargs in [
        ("/oauth2/token", {"json": token_body}),
        ("/oauth2/token", {"json": token_body, "headers": {"Origin": ORIGIN}}),
        ("/oauth2/token", {"json": token_body, "headers": {"Origin": "https://evil.example.com"}}),
        (SESSION_PATH, {"json": create, "headers": {"Authorization": token, "Origin": ORIGIN}}),
        (SESSION_PATH, {"json": create, "headers": {"Authorization": token}}),
    ]:
        edge_status, edge_headers, _ = _answer(world.client.post(path, **kwargs))
        chain_status, chain_headers, _ = _answer(chain.post(path, **kwargs))
        assert edge_status == chain_status == 200
        assert [(k, v) for k, v in edge_headers if k != b"content-length"] == [
            (k, v) for k, v in chain_headers if k != b"content-length"], path
    origin_headers = dict(world.client.post("/oauth2/token", json=token_body, headers={"Origin": ORIGIN}).headers)
    assert origin_headers["access-control-allow-origin"] == ORIGIN and origin_headers["vary"] == "Origin"
    # An idempotent create answered by one and replayed by the other.
    headers = {"Authorization": token, "Idempotency-Key": "edge-1"}
    first = world.client.post(SESSION_PATH, json=create, headers=headers)
    replay = chain.post(SESSION_PATH, json=create, headers=headers)
    assert first.status_code == replay.status_code == 200 and first.content == replay.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert world.client.post(SESSION_PATH, json=create, headers=headers).headers["idempotent-replayed"] == "true"


def test_the_edge_counts_and_logs_its_requests_once(world: World, json_logs: io.StringIO) -> None:
    settings = world.services.settings
    app = create_app(Settings(database_url=settings.database_url, public_url=settings.public_url,
                              access_log=True, metrics=True), services=world.services)
    client = TestClient(app)
    r = client.get("/r/" + "A" * 22)
    assert r.status_code == 404
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if '"route"' in line]
    assert [(x["method"], x["route"], x["status"], x["request_id"]) for x in lines] == [
        ("GET", "/r/{code}", 404, r.headers["x-wix-request-id"])]
    assert client.post("/oauth2/token", json={"clientId": world.tenant.client_id, "grantType": "anonymous"}
                       ).status_code == 200
    exposition = client.get("/metrics").text
    assert 'headless_redirects_requests_total{method="GET",route="/r/{code}",status="404"} 1.0' in exposition
    assert 'headless_redirects_requests_total{method="POST",route="/oauth2/token",status="200"} 1.0' in exposition
