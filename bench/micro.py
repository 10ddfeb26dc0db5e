"""In-process costs of the hot path (issue 12), per call, in µs: best of a few repeats.

    python bench/micro.py [--repeat 7] [--number 2000] [--only NAME ...]

No server, no load generator: the app's ASGI callable is driven on one event loop with the
bench's requests (the same bodies as ``bench/run.py``), and the pieces beneath it are timed on
their own (validation, signing, statements against the plain DBAPI, the middleware). Logging is
set up as ``serve`` sets it, to a file, so the access line costs what it costs a server.
Numbers move ±30 % on a shared machine: compare figures taken in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"
SESSION_PATH = "/_api/redirects-api/v1/redirect-session"


def best(fn: Callable[[], object], number: int, repeat: int) -> float:
    """µs per call of ``fn``, best of ``repeat`` runs of ``number`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append(time.perf_counter() - start)
    return min(times) / number * 1e6


def best_async(loop: asyncio.AbstractEventLoop, fn: Callable[[], Awaitable[object]], number: int,
               repeat: int, concurrency: int = 1) -> float:
    """µs per request of ``fn``, ``concurrency`` of them at a time (writes then share a group
    commit, as a server's concurrent requests do), best of ``repeat`` runs."""
    rounds = max(1, number // concurrency)

    async def batch() -> float:
        start = time.perf_counter()
        for _ in range(rounds):
            if concurrency == 1:
                await fn()
            else:
                await asyncio.gather(*(fn() for _ in range(concurrency)))
        return time.perf_counter() - start

    return min(loop.run_until_complete(batch()) for _ in range(repeat)) / (rounds * concurrency) * 1e6


def best_turns(loop: asyncio.AbstractEventLoop, fn: Callable[[], Awaitable[object]], number: int, repeat: int,
               per_turn: int) -> float:
    """µs per request of ``fn``, ``per_turn`` of them in each turn of the loop (one after the
    other, then a yield to the loop), best of ``repeat`` runs: what a turn's own work costs
    (a turn's shared read transaction, its access lines' write) shows against its requests.
    Served at half the maximum rate a turn holds one or two requests; at the maximum, many."""
    turns = max(1, number // per_turn)

    async def batch() -> float:
        start = time.perf_counter()
        for _ in range(turns):
            for _ in range(per_turn):
                await fn()
            await asyncio.sleep(0)
        return time.perf_counter() - start

    return min(loop.run_until_complete(batch()) for _ in range(repeat)) / (turns * per_turn) * 1e6


class Request:
    """One ASGI request, replayable: ``await request(app)`` runs it and returns the status."""

    def __init__(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.method = method
        self.path = path
        self.body = body
        self.headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body:
            self.headers.append((b"content-length", str(len(body)).encode()))
        self.status = 0
        self.response = b""

    async def __call__(self, app: Any) -> int:
        scope = {"type": "http", "method": self.method, "path": self.path, "raw_path": self.path.encode(),
                 "query_string": b"", "headers": list(self.headers), "client": ("127.0.0.1", 40000),
                 "server": ("127.0.0.1", 8080), "scheme": "http", "http_version": "1.1", "root_path": ""}
        body = self.body

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message.get("body"):
                self.response = message["body"]

        await app(scope, receive, send)
        return self.status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--only", nargs="*", default=None, help="names of the rows to measure")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="requests in flight at once for the whole-request rows (default 16)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))

    from headless_redirects.domain.intents import check_against_apps, parse_request
    from headless_redirects.logs import configure
    from headless_redirects.service.tenancy import create_tenant
    from headless_redirects.settings import Settings
    from headless_redirects.web.app import create_app
    from headless_redirects.web.hotpath import HotPath

    with tempfile.TemporaryDirectory() as tmp:
        log_file = open(os.path.join(tmp, "server.log"), "w")  # noqa: SIM115 - closed below
        configure("info")
        for handler in logging.getLogger("headless_redirects").handlers:
            handler.setStream(log_file)  # type: ignore[attr-defined]
        url = f"sqlite:///{tmp}/micro.db"
        settings = Settings(database_url=url, public_url="http://127.0.0.1:8080", webhook_dispatcher=False)
        app = create_app(settings)
        services = app.services  # type: ignore[attr-defined]
        tenant = create_tenant(services.store, name="Bench", public_url=None, allowed_domains=["shop.example.com"],
                               redirect_uris=["https://shop.example.com/callback"])
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        token_body = json.dumps({"clientId": tenant.client_id, "grantType": "anonymous"}).encode()
        session_body = json.dumps({"ecomCheckout": {"checkoutId": CHECKOUT},
                                   "callbacks": {"postFlowUrl": "https://shop.example.com/after",
                                                 "thankYouPageUrl": "https://shop.example.com/thanks"}}).encode()
        json_type = {"content-type": "application/json"}
        anonymous = Request("POST", "/oauth2/token", token_body, json_type)
        loop.run_until_complete(anonymous(app))
        access = json.loads(anonymous.response)["access_token"]
        create = Request("POST", SESSION_PATH, session_body, {**json_type, "authorization": access})
        assert loop.run_until_complete(create(app)) == 200, create.response
        short_url = json.loads(create.response)["redirectSession"]["shortUrl"]
        short = Request("GET", "/r/" + short_url.rsplit("/", 1)[1])
        hot: Any = app
        while not isinstance(hot, HotPath):
            hot = hot.app
        # The layers above HotPath, added one at a time (the whole app is all of them): what
        # each middleware costs a short link, and the metrics and the access line on their own.
        from headless_redirects.web.cors import Cors
        from headless_redirects.web.metrics import Metrics
        from headless_redirects.web.middleware import RequestIdMiddleware

        cors: Any = Cors(hot, services)
        request_id_only = RequestIdMiddleware(cors, access_log=False, metrics=None)
        with_metrics = RequestIdMiddleware(cors, access_log=False, metrics=Metrics())
        with_access = RequestIdMiddleware(cors, access_log=True, metrics=None)
        caller = services.sessions.authenticate(access, None)
        decoded = json.loads(session_body)
        rules = services.sessions.rules_of(caller.tenant) if hasattr(services.sessions, "rules_of") else None
        db_file = os.path.join(tmp, "micro.db")
        plain = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
        session_id = json.loads(create.response)["redirectSession"]["id"]
        store = services.store

        def validate() -> object:
            from headless_redirects.domain.intents import AppRules

            request, violations = parse_request(decoded)
            apps = rules if rules is not None else {
                cid: AppRules(cid, tuple(a.allowed_domains), tuple(a.redirect_uris))
                for cid, a in caller.tenant.apps.items()}
            assert request is not None
            return check_against_apps(request, apps, caller.client_id)

        def validate_fast() -> object:
            from headless_redirects.domain.intent_shapes import fast_request

            request = fast_request(session_body)
            assert request is not None
            return check_against_apps(request, caller.tenant.rules, caller.client_id)

        claims = {"iss": "http://127.0.0.1:8080", "sub": CHECKOUT, "sub_type": "VISITOR", "site_id": CHECKOUT,
                  "client_id": CHECKOUT, "scope": "", "iat": round(time.time(), 3), "exp": int(time.time()) + 14400}
        n, r, c = args.number, args.repeat, args.concurrency
        rows: list[tuple[str, Callable[[], float]]] = [
            ("short link, whole app", lambda: best_async(loop, lambda: short(app), n, r, c)),
            ("short link, whole app, 1 request a loop turn", lambda: best_turns(loop, lambda: short(app), n, r, 1)),
            ("short link, whole app, 16 requests a loop turn", lambda: best_turns(loop, lambda: short(app), n, r, 16)),
            ("short link, HotPath only", lambda: best_async(loop, lambda: short(hot), n, r, c)),
            ("short link, + Cors", lambda: best_async(loop, lambda: short(cors), n, r, c)),
            ("short link, + RequestId (no metrics, no access line)",
             lambda: best_async(loop, lambda: short(request_id_only), n, r, c)),
            ("short link, + RequestId + metrics", lambda: best_async(loop, lambda: short(with_metrics), n, r, c)),
            ("short link, + RequestId + access line", lambda: best_async(loop, lambda: short(with_access), n, r, c)),
            ("create session, whole app", lambda: best_async(loop, lambda: create(app), n, r, c)),
            ("create session, HotPath only", lambda: best_async(loop, lambda: create(hot), n, r, c)),
            ("anonymous token, whole app", lambda: best_async(loop, lambda: anonymous(app), n, r, c)),
            ("anonymous token, HotPath only", lambda: best_async(loop, lambda: anonymous(hot), n, r, c)),
            ("validate session body (full validator)", lambda: best(validate, args.number, args.repeat)),
            ("validate session body (fast path from bytes)", lambda: best(validate_fast, args.number, args.repeat)),
            ("authenticate visitor token", lambda: best(lambda: services.sessions.authenticate(access, None),
                                                        args.number, args.repeat)),
            ("ES256 sign (KeyRing.sign)", lambda: best(lambda: services.keys.sign(claims), args.number, args.repeat)),
            ("short-link select, statement layer",
             lambda: best(lambda: store.sessions.short_link(short.path[3:]), args.number, args.repeat)),
            ("short-link select, plain sqlite3",
             lambda: best(lambda: plain.execute("SELECT full_url, expires_at FROM redirect_sessions WHERE id = ?",
                                                (session_id,)).fetchone(), args.number, args.repeat)),
            ("revocation select, statement layer",
             lambda: best(lambda: store.tokens.revoked_before(CHECKOUT), args.number, args.repeat)),
            ("revocation select, plain sqlite3",
             lambda: best(lambda: plain.execute("SELECT revoked_before FROM revocations WHERE id = ?",
                                                (CHECKOUT,)).fetchone(), args.number, args.repeat)),
        ]
        for name, measure in rows:
            if args.only and not any(o in name for o in args.only):
                continue
            print(f"{measure():9.1f} µs  {name}", flush=True)
        plain.close()
        loop.close()
        services.db.dispose()
        log_file.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
