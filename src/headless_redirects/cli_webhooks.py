"""``headless-redirects webhooks ...`` (SPEC §12): endpoints per site and their deliveries.

``test`` sends a ``webhook.test`` event to the endpoint from this process and prints what the
receiver answered; every other delivery is made by the running servers' dispatchers.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from .cli_common import iso_ms, json_flag, print_result, with_admin

if TYPE_CHECKING:
    from .service.admin import AdminService
    from .service.admin_results import Endpoint

__all__ = ["add_webhook_commands"]


def _endpoint(e: Endpoint) -> dict[str, Any]:
    return {"id": e.id, "siteId": e.site_id, "url": e.url, "events": e.events,
            "createdDate": iso_ms(e.created_at * 1000),
            "disabledDate": iso_ms(e.disabled_at * 1000) if e.disabled_at else None,
            "disabledReason": e.disabled_reason}


def cmd_webhooks(args: argparse.Namespace, admin: AdminService) -> int:
    command = args.webhooks_command
    if command == "add":
        added = admin.add_endpoint(args.site_id, args.url, args.event or [])
        print_result({"id": added.id, "url": added.url, "events": added.events, "secret": added.secret}, args.json)
    elif command == "list":
        print_result([_endpoint(e) for e in admin.endpoints(args.site_id)], args.json)
    elif command == "resend":
        resent = admin.resend(args.event_id)
        print_result({"eventId": resent.event_id, "deliveries": resent.deliveries}, args.json)
    elif command == "remove":
        print_result({"id": admin.remove_endpoint(args.id).id, "removed": True}, args.json)
    elif command == "deliveries":
        print_result([{"eventId": a.event_id, "attempt": a.attempt, "date": iso_ms(a.at), "statusCode": a.status_code,
                       "error": a.error, "durationMs": a.duration_ms} for a in admin.attempts(args.id, args.limit)],
                     args.json)
    else:
        sent = asyncio.run(admin.send_test(args.id))
        print_result({"eventId": sent.event_id, "statusCode": sent.status_code, "delivered": sent.delivered},
                     args.json)
        return 0 if sent.delivered else 1
    return 0


def add_webhook_commands(sub: Any, common: argparse.ArgumentParser) -> None:
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
        json_flag(parser)
        parser.set_defaults(func=with_admin(cmd_webhooks))
