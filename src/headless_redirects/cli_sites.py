"""``headless-redirects init``, ``sites``, ``apps`` and ``keys``: a site, its OAuth apps, its API
keys and the token signing keys, through the admin service."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import msgspec

from .cli_common import fail, host_or_host_port, http_url, iso, json_flag, path, print_result, with_admin

if TYPE_CHECKING:
    from .service.admin import AdminService
    from .service.admin_results import ApiKey, App, NewSite, Site

__all__ = ["add_init_command", "add_site_commands", "new_site"]


def new_site(tenant: NewSite) -> dict[str, str]:
    """SPEC §6: what ``init --json`` prints, and ``serve`` of the development site."""
    return {"siteId": tenant.site_id, "clientId": tenant.client_id, "apiKey": tenant.api_key}


def _site(site: Site) -> dict[str, Any]:
    return {"id": site.id, "name": site.name, "baseUrl": site.base_url, "flowProvider": site.flow_provider,
            "registration": site.registration_policy, "pages": _pages(site), "createdDate": iso(site.created_at)}


def _pages(site: Site) -> dict[str, Any]:
    pages: dict[str, Any] = msgspec.to_builtins(site.page_settings)
    return pages


def _app(a: App) -> dict[str, Any]:
    return {"clientId": a.client_id, "name": a.name, "allowedDomains": a.allowed_domains,
            "redirectUris": a.redirect_uris, "allowedOrigins": a.allowed_origins, "createdDate": iso(a.created_at)}


def _key(k: ApiKey) -> dict[str, Any]:
    return {"id": k.id, "name": k.name, "scopes": k.scopes, "createdDate": iso(k.created_at),
            "revokedDate": iso(k.revoked_at)}


def cmd_init(args: argparse.Namespace, admin: AdminService) -> int:
    tenant = admin.create_site(name=args.name, public_url=args.public_url,
                               allowed_domains=args.allowed_domain or ["localhost", "127.0.0.1"],
                               redirect_uris=args.redirect_uri or [])
    # SPEC §6: with --json, exactly this one object on stdout.
    print_result(new_site(tenant), args.json)
    return 0


def cmd_sites_set(args: argparse.Namespace, admin: AdminService) -> int:
    from .service.admin_results import Invalid, NothingToChange

    try:
        site = admin.update_site(args.site_id, flow_provider=args.flow_provider, base_url=args.base_url,
                                 registration_policy=args.registration)
    except Invalid as exc:  # the only value the parser cannot check
        return fail(f"--flow-provider {args.flow_provider!r}: {exc}")
    except NothingToChange:
        return fail("nothing to change: give --flow-provider, --base-url or --registration")
    print_result(_site(site), args.json)
    return 0


def cmd_sites_pages(args: argparse.Namespace, admin: AdminService) -> int:
    """Set the custom page of one intent (used with useGenericWixPages=false / checkIfPublish)."""
    if args.remove:
        site = admin.remove_page(args.site_id, args.intent)
    else:
        site = admin.set_page(args.site_id, args.intent, path=args.path, published=args.published)
    pages = _pages(site)
    print_result([{"intent": k, **v} for k, v in pages.items()] if not args.json else pages, args.json)
    return 0


def cmd_apps(args: argparse.Namespace, admin: AdminService) -> int:
    if args.apps_command == "list":
        print_result([_app(a) for a in admin.apps(args.site_id)], args.json)
        return 0
    app = admin.create_app(args.site_id, name=args.name, allowed_domains=args.allowed_domain or [],
                           redirect_uris=args.redirect_uri or [], allowed_origins=args.allowed_origin or [])
    print_result(_app(app), args.json)
    return 0


def cmd_apps_update(args: argparse.Namespace, admin: AdminService) -> int:
    from .service.admin_results import NothingToChange

    try:
        app = admin.update_app(args.client_id, allowed_origins=args.allowed_origin, clear_origins=args.clear_origins)
    except NothingToChange:
        return fail("nothing to change: give --allowed-origin or --clear-origins")
    print_result({"clientId": app.client_id, "allowedDomains": app.allowed_domains,
                  "allowedOrigins": app.allowed_origins}, args.json)
    return 0


def cmd_keys(args: argparse.Namespace, admin: AdminService) -> int:
    if args.keys_command == "rotate-signing":
        print_result({"kid": admin.rotate_signing_key().kid}, args.json)
    elif args.keys_command == "revoke":
        print_result({"id": admin.revoke_api_key(args.key_id).id, "revoked": True}, args.json)
    elif args.keys_command == "list":
        print_result([_key(k) for k in admin.api_keys(args.site_id)], args.json)
    else:
        key = admin.create_api_key(args.site_id, name=args.name, scopes=args.scope or [])
        print_result({"id": key.id, "apiKey": key.api_key, "scopes": key.scopes}, args.json)
    return 0


def add_init_command(sub: Any, common: argparse.ArgumentParser) -> None:
    init = sub.add_parser("init", parents=[common], help="create a site, an OAuth app and an API key")
    init.add_argument("--json", action="store_true", help='print one object {"siteId", "clientId", "apiKey"} '
                      "and nothing else")
    init.add_argument("--name", default="My site", help="the site's name")
    init.add_argument("--public-url", type=http_url, metavar="URL",
                      help="base URL of the site's hosted pages (default: the server's)")
    init.add_argument("--allowed-domain", action="append", metavar="HOST", type=host_or_host_port,
                      help="a host (any port) or host:port callback URLs may point to (repeatable; "
                           "default: localhost and 127.0.0.1)")
    init.add_argument("--redirect-uri", action="append", metavar="URI",
                      help="an exact OAuth redirect URI (repeatable)")
    init.set_defaults(func=with_admin(cmd_init))


def add_site_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``sites``, ``apps`` and ``keys``."""
    from .domain.intents import INTENTS

    sites_cmd = sub.add_parser("sites", help="configure sites").add_subparsers(
        dest="sites_command", required=True, metavar="COMMAND")
    set_cmd = sites_cmd.add_parser("set", parents=[common],
                                   help="a site's flow provider, base URL or registration policy")
    set_cmd.add_argument("--site-id", required=True, help="the site")
    set_cmd.add_argument("--flow-provider", metavar="NAME", help="'demo' or 'package.module:Class'")
    set_cmd.add_argument("--base-url", type=http_url, metavar="URL",
                         help="where the site's hosted pages are served (an absolute http(s) URL)")
    set_cmd.add_argument("--registration", choices=["open", "verify-email", "approval"],
                         help="who may join through the identity API: anyone, after an emailed code, or after "
                              "`members approve`")
    json_flag(set_cmd)
    set_cmd.set_defaults(func=with_admin(cmd_sites_set))
    pages = sites_cmd.add_parser("pages", parents=[common], help="a site's custom page for an intent")
    pages.add_argument("--site-id", required=True, help="the site")
    pages.add_argument("--intent", required=True, choices=[i for i in INTENTS if i != "auth"], metavar="INTENT",
                       help="the intent whose page it is (any intent but auth, e.g. ecomCheckout)")
    pages.add_argument("--path", default="/", type=path, help="the custom page's path on the site's base URL")
    pages.add_argument("--published", action="store_true", help="the page is published (for checkIfPublish)")
    pages.add_argument("--remove", action="store_true", help="forget the intent's custom page")
    json_flag(pages)
    pages.set_defaults(func=with_admin(cmd_sites_pages))

    apps = sub.add_parser("apps", help="OAuth apps").add_subparsers(dest="apps_command", required=True,
                                                                    metavar="COMMAND")
    apps_list = apps.add_parser("list", parents=[common], help="a site's apps")
    apps_list.add_argument("--site-id", required=True, help="the site")
    apps_create = apps.add_parser("create", parents=[common], help="a new app (client id) of a site")
    apps_create.add_argument("--site-id", required=True, help="the site")
    apps_create.add_argument("--name", default="app", help="the app's name")
    apps_create.add_argument("--allowed-domain", action="append", metavar="HOST", type=host_or_host_port,
                             help="a host (any port) or host:port callback URLs may point to (repeatable)")
    apps_create.add_argument("--redirect-uri", action="append", metavar="URI",
                             help="an exact OAuth redirect URI (repeatable)")
    apps_create.add_argument("--allowed-origin", action="append", metavar="ORIGIN",
                             help="a browser origin (https://host[:port]) that may call the API beyond those of "
                                  "the allowed domains (repeatable)")
    for p in (apps_list, apps_create):
        json_flag(p)
        p.set_defaults(func=with_admin(cmd_apps))
    update = apps.add_parser("update", parents=[common], help="change an app's extra browser origins (CORS)")
    update.add_argument("--client-id", required=True, help="the app")
    update.add_argument("--allowed-origin", action="append", metavar="ORIGIN",
                        help="a browser origin (https://host[:port]) that may call the API, beyond those of the "
                             "allowed domains; repeatable; replaces the app's list")
    update.add_argument("--clear-origins", action="store_true", help="remove every extra origin")
    json_flag(update)
    update.set_defaults(func=with_admin(cmd_apps_update))

    keys = sub.add_parser("keys", help="API keys and signing keys").add_subparsers(
        dest="keys_command", required=True, metavar="COMMAND")
    keys_list = keys.add_parser("list", parents=[common], help="a site's API keys (never the keys themselves)")
    keys_list.add_argument("--site-id", required=True, help="the site")
    keys_create = keys.add_parser("create", parents=[common], help="a new API key, printed once")
    keys_create.add_argument("--site-id", required=True, help="the site")
    keys_create.add_argument("--name", default="key", help="the key's name")
    keys_create.add_argument("--scope", action="append", metavar="SCOPE",
                             help="a scope of the key (repeatable; default SCOPE.PROMOTE.VIEW-SEO). "
                                  "SCOPE.IAM.SIGN-ON lets a backend log members in (sign-on, authorized_client)")
    keys_revoke = keys.add_parser("revoke", parents=[common], help="revoke an API key: refused at once")
    keys_revoke.add_argument("--key-id", required=True, help="the key's id (from keys list)")
    keys_rotate = keys.add_parser("rotate-signing", parents=[common],
                                  help="a new token signing key; old ones verify until their tokens expire")
    for p in (keys_list, keys_create, keys_revoke, keys_rotate):
        json_flag(p)
        p.set_defaults(func=with_admin(cmd_keys))


