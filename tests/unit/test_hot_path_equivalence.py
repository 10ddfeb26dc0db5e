"""The hot path's shortcuts (issue 12) answer exactly what the general code answers: the access
line written straight to the stream, the ES256 token written without PyJWT."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import jwt
import pytest
from jwt.algorithms import ECAlgorithm

from headless_redirects.logs import configure
from headless_redirects.web import middleware
from tests.conftest import World


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Logging as ``serve`` sets it up, into a buffer; the previous set-up restored after."""
    names = ("headless_redirects", "headless_redirects.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    configure("info")
    buffer = io.StringIO()
    for handler in logging.getLogger("headless_redirects").handlers:
        handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


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
