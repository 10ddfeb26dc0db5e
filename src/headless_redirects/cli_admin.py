"""``headless-redirects members``, ``mail``, ``sessions`` and ``purge`` (SPEC §6, §11): members of
a site, the mail outbox, redirect sessions and housekeeping, through the admin service.

Registered on the parser by ``cli.build_parser``; each prints one JSON document with ``--json``
and a readable table otherwise.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .cli_common import iso, json_flag, non_negative, positive, print_result, shown, with_admin

if TYPE_CHECKING:
    from .service.admin import AdminService

__all__ = ["add_housekeeping_commands", "add_mail_commands", "add_member_commands"]


# --- members -------------------------------------------------------------------------------

def cmd_members_create(args: argparse.Namespace, admin: AdminService) -> int:
    admin.site(args.site_id)  # an unknown site is refused before the password is read
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else ""
    member = admin.create_member(args.site_id, args.email, password)
    print_result({"id": member.id, "siteId": member.site_id, "email": member.email}, args.json)
    return 0


def cmd_members_admin(args: argparse.Namespace, admin: AdminService) -> int:
    if args.members_command == "list":
        print_result([{"id": m.id, "email": m.email, "status": m.status, "emailVerified": m.email_verified,
                       "createdDate": iso(m.created_at), "lastLoginDate": iso(m.last_login_at)}
                      for m in admin.list_members(args.site_id, args.status)], args.json)
        return 0
    if args.members_command == "delete":
        print_result({"id": admin.delete_member(args.member_id).id, "deleted": True}, args.json)
        return 0
    change = admin.approve_member if args.members_command == "approve" else admin.block_member
    member = change(args.member_id)
    print_result({"id": member.id, "email": member.email, "status": member.status}, args.json)
    return 0


def add_member_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    members = sub.add_parser("members", help="members of a site").add_subparsers(
        dest="members_command", required=True, metavar="COMMAND")
    create = members.add_parser("create", parents=[common], help="create a member (argon2id password)")
    create.add_argument("--site-id", required=True, help="the site")
    create.add_argument("--email", required=True, help="the member's email, its login")
    create.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the password from the first line of standard input")
    json_flag(create)
    create.set_defaults(func=with_admin(cmd_members_create))
    listing = members.add_parser("list", parents=[common], help="list a site's members")
    listing.add_argument("--site-id", required=True, help="the site")
    listing.add_argument("--status", choices=["APPROVED", "PENDING", "BLOCKED"], help="only members in this status")
    for name, text in (("approve", "approve a pending member (registration policy 'approval')"),
                       ("block", "block a member: it cannot log in and its tokens fail at once"),
                       ("delete", "delete a member; its tokens fail at once")):
        parser = members.add_parser(name, parents=[common], help=text)
        parser.add_argument("--member-id", required=True, help="the member's id")
    for parser in (listing, *(members.choices[n] for n in ("approve", "block", "delete"))):
        json_flag(parser)
        parser.set_defaults(func=with_admin(cmd_members_admin))


# --- the mail outbox -----------------------------------------------------------------------

def cmd_mail_list(args: argparse.Namespace, admin: AdminService) -> int:
    rows = admin.mail(args.limit, args.to)
    if args.json:
        print_result([{"id": m.id, "to": m.recipient, "subject": m.subject, "body": m.body, "status": m.status,
                       "createdDate": iso(m.created_at), "sentDate": iso(m.sent_at), "error": m.error}
                      for m in rows], True)
        return 0
    print_result([{"id": m.id, "to": m.recipient, "subject": m.subject, "status": m.status,
                   "createdDate": iso(m.created_at)} for m in rows], False)
    for m in rows:
        print(f"\n--- {m.id} to {m.recipient}: {m.subject}\n{m.body}")
    return 0


def add_mail_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    mail = sub.add_parser("mail", help="the emails the service sent or kept (the development outbox)")
    commands = mail.add_subparsers(dest="mail_command", required=True)
    listing = commands.add_parser("list", parents=[common], help="newest emails first, with their bodies")
    listing.add_argument("--limit", type=int, default=20, help="how many (default: %(default)s)")
    listing.add_argument("--to", help="only emails to this address")
    json_flag(listing)
    listing.set_defaults(func=with_admin(cmd_mail_list))


# --- sessions and housekeeping ----------------------------------------------------------------

def cmd_sessions(args: argparse.Namespace, admin: AdminService) -> int:
    import time

    from .service.session_view import session_wire

    if args.sessions_command == "show":
        session = admin.session(args.session_id)
        # The session API's view (SPEC §12), and what an operator also needs to see.
        view = {**session_wire(session, admin.public_url, int(time.time())), "siteId": session.site_id,
                "clientId": session.client_id, "params": session.params, "preferences": session.preferences,
                "lang": session.lang, "creatorType": session.creator_type, "creatorId": session.creator_id}
        print_result(view if args.json else {k: shown(v) for k, v in view.items()}, args.json)
        return 0
    print_result([{"id": s.id, "intent": s.intent, "state": s.state, "siteId": s.site_id,
                   "createdDate": iso(s.created_at), "expiresDate": iso(s.expires_at)}
                  for s in admin.list_sessions(args.site_id, args.limit)], args.json)
    return 0


def cmd_purge(args: argparse.Namespace, admin: AdminService) -> int:
    print_result({"deleted": admin.purge(args.keep_days)}, args.json)
    return 0


def add_housekeeping_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``sessions`` and ``purge``."""
    sessions = sub.add_parser("sessions", help="redirect sessions").add_subparsers(
        dest="sessions_command", required=True, metavar="COMMAND")
    sessions_list = sessions.add_parser("list", parents=[common], help="the newest sessions")
    sessions_list.add_argument("--site-id", help="only this site's (default: every site's)")
    sessions_list.add_argument("--limit", type=positive, default=20, help="how many")
    sessions_show = sessions.add_parser("show", parents=[common], help="one session")
    sessions_show.add_argument("session_id", metavar="ID", help="the session's id (redirectSession.id)")
    for p in (sessions_list, sessions_show):
        json_flag(p)
        p.set_defaults(func=with_admin(cmd_sessions))

    purge = sub.add_parser("purge", parents=[common], help="delete sessions and refresh tokens long expired")
    purge.add_argument("--keep-days", type=non_negative, default=7, metavar="DAYS",
                       help="keep what expired fewer than this many days ago (0: delete all that expired)")
    json_flag(purge)
    purge.set_defaults(func=with_admin(cmd_purge))
