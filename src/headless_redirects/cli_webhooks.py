"""``headless-redirects webhooks ...`` (SPEC §12): endpoints per site and their deliveries.

``test`` sends a ``webhook.test`` event to the endpoint from this process and prints what the
receiver answered; every other delivery is made by the running servers' dispatchers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from .cli_admin import print_result

__all__ = ["add_webhook_commands"]


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _endpoint(e: Any, secret: bool = False) -> dict[str, Any]:
    row = {"id": e.id, "siteId": e.site_id, "url": e.url, "events": e.events,
           "createdDate": _iso_ms(e.created_at * 1000), "disabledDate": _iso_ms(e.disabled_at * 1000)
           if e.disabled_at else None, "disabledReason": e.disabled_reason}
    if secret:
        return {"id": e.id, "url": e.url, "events": e.events, "secret": e.secret}
    return row


def cmd_webhooks(args: argparse.Namespace, store: Any) -> int:
    from .service.webhooks import new_endpoint
    from .storage.webhooks import WebhookStore

    hooks = WebhookStore(store.db)
    command = args.webhooks_command
    now_ms = time.time_ns() // 1_000_000
    if command == "add":
        if store.get_site(args.site_id) is None:
            return _fail(f"no site {args.site_id}")
        try:
            endpoint = new_endpoint(args.site_id, args.url, args.event or [])
        except ValueError as exc:
            return _fail(str(exc))
        hooks.add_endpoint(endpoint)
        print_result(_endpoint(endpoint, secret=True), args.json)
        return 0
    if command == "list":
        print_result([_endpoint(e) for e in hooks.endpoints(args.site_id)], args.json)
        return 0
    if command == "resend":
        count = hooks.resend(args.event_id, now_ms)
        if count < 0:
            return _fail(f"no event {args.event_id}")
        print_result({"eventId": args.event_id, "deliveries": count}, args.json)
        return 0
    found = hooks.endpoint(args.id)
    if found is None:
        return _fail(f"no webhook endpoint {args.id}")
    if command == "remove":
        hooks.remove_endpoint(found.id, now_ms)
        print_result({"id": found.id, "removed": True}, args.json)
        return 0
    if command == "deliveries":
        print_result([{"eventId": a.event_id, "attempt": a.attempt, "date": _iso_ms(a.at), "statusCode": a.status_code,
                       "error": a.error, "durationMs": a.duration_ms} for a in hooks.attempts(found.id, args.limit)],
                     args.json)
        return 0
    return _send_test(hooks, found, args.json)


def _send_test(hooks: Any, endpoint: Any, as_json: bool) -> int:
    from .service.webhooks import TEST, Dispatcher, EventWriter, parse_schedule

    now_ms = time.time_ns() // 1_000_000
    event = EventWriter.build(endpoint.site_id, TEST, {"endpointId": endpoint.id}, endpoint_id=endpoint.id)
    delivery_id = hooks.add_test(event, endpoint.id, now_ms)
    claim = hooks.claim_one(delivery_id, now_ms, 30_000)
    assert claim is not None

    async def run(fn: Callable[..., Any], *a: Any, **k: Any) -> Any:
        return fn(*a, **k)

    async def deliver() -> int | None:
        async with httpx.AsyncClient(timeout=15.0) as http:
            return await Dispatcher(hooks, run, parse_schedule("")).deliver(http, claim)

    status = asyncio.run(deliver())
    ok = status is not None and 200 <= status < 300
    print_result({"eventId": event["id"], "statusCode": status, "delivered": ok}, as_json)
    return 0 if ok else 1


def add_webhook_commands(sub: Any, common: argparse.ArgumentParser,
                         run: Callable[[Callable[[argparse.Namespace, Any], int]], Any]) -> None:
    webhooks = sub.add_parser("webhooks", help="webhook endpoints (Standard Webhooks) and their deliveries")
    commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    add = commands.add_parser("add", parents=[common], help="add an endpoint; its whsec_ secret is shown once")
    add.add_argument("--site-id", required=True, help="the site whose events it receives")
    add.add_argument("--url", required=True, help="https URL (http only for loopback hosts) that receives the POSTs")
    add.add_argument("--event", action="append", metavar="TYPE",
                     help="an event type to receive (repeatable; default: all of redirect_session.created, .opened, "
                          ".completed, .abandoned, .expired, member.created)")
    listing = commands.add_parser("list", parents=[common], help="a site's endpoints")
    listing.add_argument("--site-id", required=True, help="the site")
    remove = commands.add_parser("remove", parents=[common], help="remove an endpoint and its pending deliveries")
    remove.add_argument("--id", required=True, help="the endpoint")
    test = commands.add_parser("test", parents=[common], help="send a webhook.test event now; exit 1 unless 2xx")
    test.add_argument("--id", required=True, help="the endpoint")
    deliveries = commands.add_parser("deliveries", parents=[common], help="an endpoint's attempts, newest first")
    deliveries.add_argument("--id", required=True, help="the endpoint")
    deliveries.add_argument("--limit", type=int, default=50, help="how many (default: %(default)s)")
    resend = commands.add_parser("resend", parents=[common], help="deliver a past event again (same webhook-id)")
    resend.add_argument("--event-id", required=True, help="the event (webhook-id)")
    for parser in (add, listing, remove, test, deliveries, resend):
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.set_defaults(func=run(cmd_webhooks))
