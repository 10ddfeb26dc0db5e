"""Log lines (one shape for ours and uvicorn's), the access line, and the trusted-proxy rules for
the client address, scheme and request id."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from headless_redirects.logs import configure
from headless_redirects.settings import Settings
from headless_redirects.web.middleware import RequestIdMiddleware, TrustedProxies
from tests.conftest import World

ACCESS_FIELDS = {"time", "level", "logger", "message", "request_id", "method", "route", "status", "duration_ms",
                 "client_ip"}


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_ours_and_uvicorns_lines_are_json_objects(logging_restored: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "json")
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42, extra={"color_message": "x"})
    logging.getLogger("headless_redirects.web").warning("careful", extra={"request_id": "abc"})
    logging.getLogger("headless_redirects.web").debug("not at info")
    lines = _json_lines(capsys.readouterr().err)
    assert [(e["logger"], e["level"], e["message"]) for e in lines] == [
        ("uvicorn.error", "info", "Started server process [42]"), ("headless_redirects.web", "warning", "careful")]
    assert "color_message" not in lines[0] and lines[1]["request_id"] == "abc"
    assert lines[0]["time"].endswith("Z") and "T" in lines[0]["time"]


def test_text_format_is_for_humans(logging_restored: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "text")
    logging.getLogger("headless_redirects.access").info("%s %s %s", "GET", "/healthz", 200,
                                                        extra={"request_id": "r1", "client_ip": "203.0.113.9"})
    line = capsys.readouterr().err.strip()
    assert " info " in line and "headless_redirects.access  GET /healthz 200" in line
    assert line.endswith("request_id=r1 client_ip=203.0.113.9")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_one_access_line_per_request_with_the_route_template(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "headless_redirects.access")
    r = world.client.get("/healthz")
    short = world.create({"login": {}, "callbacks": {"postFlowUrl": "http://localhost:3000/"}}).json()
    code = short["redirectSession"]["shortUrl"].rsplit("/", 1)[1]
    caplog.clear()
    world.client.get(f"/r/{code}", follow_redirects=False)
    world.client.get("/healthz")
    records = [r for r in caplog.records if r.name == "headless_redirects.access"]
    assert [(x.method, x.route, x.status) for x in records] == [  # type: ignore[attr-defined]
        ("GET", "/r/{code}", 302), ("GET", "/healthz", 200)]
    last = records[-1]
    assert last.client_ip == "testclient" and isinstance(last.duration_ms, float)  # type: ignore[attr-defined]
    assert last.getMessage() == "GET /healthz 200"
    assert len(r.headers["x-wix-request-id"]) == 32


def test_access_line_can_be_turned_off(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from tests.conftest import make_world

    w = make_world(sqlite_url, access_log=False)
    caplog.set_level(logging.INFO, "headless_redirects.access")
    w.client.get("/healthz")
    w.services.db.dispose()
    assert not [r for r in caplog.records if r.name == "headless_redirects.access"]


# -- trusted proxies, on a tiny app that shows what it was given ------------------------------------

async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"],
                       "request_id": scope["state"]["request_id"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _client(peer: str, trusted: str) -> TestClient:
    proxies = TrustedProxies(Settings(trusted_proxies=trusted).trusted_networks)
    return TestClient(RequestIdMiddleware(_echo, trusted_proxies=proxies), client=(peer, 40000))


FORWARDED = {"x-forwarded-for": "198.51.100.7, 203.0.113.9", "x-forwarded-proto": "https",
             "x-request-id": "lb-4f2a-01"}


def test_nothing_is_believed_without_trusted_proxies() -> None:
    r = _client("127.0.0.1", "").get("/", headers=FORWARDED)
    assert r.json()["client"] == "127.0.0.1" and r.json()["scheme"] == "http"
    assert r.json()["request_id"] != "lb-4f2a-01" and r.headers["x-wix-request-id"] == r.json()["request_id"]


def test_an_untrusted_peer_cannot_forge_its_address_or_id() -> None:
    r = _client("192.0.2.50", "127.0.0.1,10.0.0.0/8").get("/", headers=FORWARDED)
    assert r.json() == {"client": "192.0.2.50", "scheme": "http", "request_id": r.headers["x-wix-request-id"]}
    assert r.json()["request_id"] != "lb-4f2a-01"


def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_hop() -> None:
    # 198.51.100.7 was written by the client itself (forgeable); 203.0.113.9 by our proxy
    r = _client("127.0.0.1", "127.0.0.1").get("/", headers=FORWARDED)
    assert r.json() == {"client": "203.0.113.9", "scheme": "https", "request_id": "lb-4f2a-01"}
    assert r.headers["x-wix-request-id"] == "lb-4f2a-01"


def test_a_chain_of_trusted_proxies_is_skipped() -> None:
    r = _client("10.0.0.3", "10.0.0.0/8").get("/", headers={"x-forwarded-for": "198.51.100.7, 10.0.0.2"})
    assert r.json()["client"] == "198.51.100.7"
    # several X-Forwarded-For headers count as one list
    r = _client("10.0.0.3", "10.0.0.0/8").get("/", headers=[("x-forwarded-for", "198.51.100.7"),
                                                            ("x-forwarded-for", "10.0.0.2")])
    assert r.json()["client"] == "198.51.100.7"


def test_a_bad_request_id_from_a_trusted_proxy_is_replaced() -> None:
    for bad in (b"has space", b"x" * 129, "caf\u00e9".encode(), b"a\tb"):
        r = _client("127.0.0.1", "127.0.0.1").get("/", headers=[(b"x-request-id", bad)])
        assert len(r.json()["request_id"]) == 32 and r.json()["request_id"].encode() != bad


def test_trusted_proxies_setting_takes_addresses_and_networks() -> None:
    assert Settings(trusted_proxies=" 127.0.0.1 , ::1,10.0.0.0/8").trusted_proxies == "127.0.0.1,::1,10.0.0.0/8"
    assert Settings(trusted_proxies=["127.0.0.1", "fd00::/8"]).trusted_proxies == "127.0.0.1,fd00::/8"
    with pytest.raises(ValueError, match="does not appear to be"):
        Settings(trusted_proxies="proxy.internal")
