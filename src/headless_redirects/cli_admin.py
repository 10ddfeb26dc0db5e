"""Administration commands of the identity API (SPEC §11): members, the mail outbox, app origins.

Registered on the ``headless-redirects`` parser by ``cli.build_parser``; each prints one JSON
document with ``--json`` and a readable table otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["add_mail_commands", "add_member_commands", "add_apps_update", "print_result"]


def print_result(rows: Sequence[dict[str, Any]] | dict[str, Any], as_json: bool) -> None:
    """One JSON document with ``--json``; otherwise a table (rows) or ``key: value`` lines."""
    if as_json:
        print(json.dumps(rows, default=str))
        return
    if isinstance(rows, dict):
        for key, value in rows.items():
            print(f"{key}: {value}")
        return
    if not rows:
        print("(none)")
        return
    columns = list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _iso(seconds: int | None) -> str | None:
    return None if seconds is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


# --- members -------------------------------------------------------------------------------

def cmd_members_admin(args: argparse.Namespace, store: Any) -> int:
    from .service.members import APPROVED, BLOCKED
    from .storage.identity import IdentityStore

    identity = IdentityStore(store.db)
    if args.members_command == "list":
        if store.get_site(args.site_id) is None:
            return _fail(f"no site {args.site_id}")
        members = identity.list_members(args.site_id, args.status)
        print_result([{"id": m.id, "email": m.email, "status": m.status, "emailVerified": m.email_verified,
                       "createdDate": _iso(m.created_at), "lastLoginDate": _iso(m.last_login_at)}
                      for m in members], args.json)
        return 0
    member = identity.get_member(args.member_id)
    if member is None:
        return _fail(f"no member {args.member_id}")
    now_ms = time.time_ns() // 1_000_000
    if args.members_command == "delete":
        identity.delete_member(member.id)
        store.revoke(member.id, now_ms + 1)  # its tokens die with it, on every instance
        print_result({"id": member.id, "deleted": True}, args.json)
        return 0
    status = APPROVED if args.members_command == "approve" else BLOCKED
    values: dict[str, object] = {"status": status, "updated_at": int(time.time())}
    identity.update_member(member.id, **values)
    if status == BLOCKED:
        store.revoke(member.id, now_ms + 1)
    print_result({"id": member.id, "email": member.email, "status": status}, args.json)
    return 0


def add_member_commands(members: Any, common: argparse.ArgumentParser,
                        run: Callable[[Callable[[argparse.Namespace, Any], int]], Any]) -> None:
    listing = members.add_parser("list", parents=[common], help="list a site's members")
    listing.add_argument("--site-id", required=True, help="the site")
    listing.add_argument("--status", choices=["APPROVED", "PENDING", "BLOCKED"], help="only members in this status")
    for name, text in (("approve", "approve a pending member (registration policy 'approval')"),
                       ("block", "block a member: it cannot log in and its tokens fail at once"),
                       ("delete", "delete a member; its tokens fail at once")):
        parser = members.add_parser(name, parents=[common], help=text)
        parser.add_argument("--member-id", required=True, help="the member's id")
    for parser in (listing, *(members.choices[n] for n in ("approve", "block", "delete"))):
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.set_defaults(func=run(cmd_members_admin))


# --- the mail outbox -----------------------------------------------------------------------

def cmd_mail_list(args: argparse.Namespace, store: Any) -> int:
    from .storage.mail import MailStore

    rows = MailStore(store.db).recent(args.limit, args.to)
    if args.json:
        print_result([{"id": m.id, "to": m.recipient, "subject": m.subject, "body": m.body, "status": m.status,
                       "createdDate": _iso(m.created_at), "sentDate": _iso(m.sent_at), "error": m.error}
                      for m in rows], True)
        return 0
    print_result([{"id": m.id, "to": m.recipient, "subject": m.subject, "status": m.status,
                   "createdDate": _iso(m.created_at)} for m in rows], False)
    for m in rows:
        print(f"\n--- {m.id} to {m.recipient}: {m.subject}\n{m.body}")
    return 0


def add_mail_commands(sub: Any, common: argparse.ArgumentParser,
                      run: Callable[[Callable[[argparse.Namespace, Any], int]], Any]) -> None:
    mail = sub.add_parser("mail", help="the emails the service sent or kept (the development outbox)")
    commands = mail.add_subparsers(dest="mail_command", required=True)
    listing = commands.add_parser("list", parents=[common], help="newest emails first, with their bodies")
    listing.add_argument("--limit", type=int, default=20, help="how many (default: %(default)s)")
    listing.add_argument("--to", help="only emails to this address")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(func=run(cmd_mail_list))


# --- apps ----------------------------------------------------------------------------------

def parse_origins(values: Sequence[str] | None) -> list[str]:
    """``--allowed-origin`` values, normalized; ``ValueError`` saying which one is wrong."""
    from .domain.origins import normalize_origin

    return list(dict.fromkeys(normalize_origin(v) for v in values or []))


def cmd_apps_update(args: argparse.Namespace, store: Any) -> int:
    try:
        origins = parse_origins(args.allowed_origin)
    except ValueError as exc:
        return _fail(str(exc))
    app = store.get_app(args.client_id)
    if app is None:
        return _fail(f"no app {args.client_id}")
    values: dict[str, object] = {}
    if args.allowed_origin is not None:
        values["allowed_origins"] = origins
    if args.clear_origins:
        values["allowed_origins"] = []
    if not values:
        return _fail("nothing to change: give --allowed-origin or --clear-origins")
    store.update_app(app.client_id, **values)
    app = store.get_app(app.client_id)
    print_result({"clientId": app.client_id, "allowedDomains": app.allowed_domains,
                  "allowedOrigins": app.allowed_origins}, args.json)
    return 0


def add_apps_update(apps: Any, common: argparse.ArgumentParser,
                    run: Callable[[Callable[[argparse.Namespace, Any], int]], Any]) -> None:
    update = apps.add_parser("update", parents=[common], help="change an app's extra browser origins (CORS)")
    update.add_argument("--client-id", required=True, help="the app")
    update.add_argument("--allowed-origin", action="append", metavar="ORIGIN",
                        help="a browser origin (https://host[:port]) that may call the API, beyond those of the "
                             "allowed domains; repeatable; replaces the app's list")
    update.add_argument("--clear-origins", action="store_true", help="remove every extra origin")
    update.add_argument("--json", action="store_true", help="print one JSON document")
    update.set_defaults(func=run(cmd_apps_update))
