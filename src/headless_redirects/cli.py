"""The ``headless-redirects`` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import cli_admin, startup
from .cli_webhooks import add_webhook_commands
from .config import CommandError, Effective, export_env, load, masked
from .settings import Settings

__all__ = ["main"]

DEV_REDIRECT_URIS = ("http://localhost:3000/callback", "http://127.0.0.1:3000/callback")


def _effective(args: argparse.Namespace, **flags: object) -> Effective:
    """Defaults < configuration file < environment < these flags (None: not given)."""
    return load({**flags, "database_url": getattr(args, "database_url", None)},
                config_file=getattr(args, "config", None))


def _settings(args: argparse.Namespace, **flags: object) -> Settings:
    return _effective(args, **flags).settings


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    return startup.open_store(settings.database_url)


def _with_store(fn: Callable[[argparse.Namespace, Any], int]) -> Callable[[argparse.Namespace], int]:
    """A command that runs on the migrated database named by the settings."""
    def run(args: argparse.Namespace) -> int:
        return fn(args, _store(_settings(args)))
    return run


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .logs import logging_config
    from .service.keys import KeyRing
    from .service.tenancy import create_tenant

    effective = _effective(args, host=args.host, port=args.port, workers=args.workers, public_url=args.public_url)
    settings = effective.settings
    # Checked in this order so that nothing is created when the server could not run.
    url, warning = startup.public_url(settings, explicit=effective.sources["public_url"] != "default")
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    settings = settings.model_copy(update={"public_url": url})
    startup.check_port(settings.host, settings.port)
    store = _store(settings)
    KeyRing(store, issuer=settings.public_url).load()
    if store.count_sites() == 0:
        tenant = create_tenant(
            store,
            name="Development site",
            public_url=None,
            allowed_domains=["localhost", "127.0.0.1"],
            redirect_uris=list(DEV_REDIRECT_URIS),
        )
        print("Created a development site on the empty database (allowed domains: localhost, 127.0.0.1;")
        print(f"redirect URIs: {', '.join(DEV_REDIRECT_URIS)}). In a shell, for the README's examples:")
        print(f"  export HR_URL={settings.public_url}")
        print(f"  export SITE_ID={tenant.site_id}")
        print(f"  export CLIENT_ID={tenant.client_id}")
        print(f"  export API_KEY={tenant.api_key}   # shown once; stored only as a hash")
    store.db.dispose()
    print(f"Serving on {settings.public_url} (database: {_redacted(settings.database_url)})", flush=True)
    # Workers build their app from the environment (see web.app.app_from_env): all of it.
    export_env(settings, os.environ)
    uvicorn.run(
        "headless_redirects.web.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        # Our middleware writes the access lines (with the route template and request id) and
        # reads X-Forwarded-* from the configured trusted proxies only.
        access_log=False,
        proxy_headers=False,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_level, settings.log_format),
        server_header=False,
    )
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    effective = _effective(args)
    values = masked(effective.settings)
    if args.json:
        print(json.dumps(values))
        return 0
    if effective.config_file:
        print(f"configuration file: {effective.config_file}")
    width = max(len(name) for name in values)
    for name, value in values.items():
        shown = "" if value is None else json.dumps(value) if not isinstance(value, str) else value
        print(f"{name:<{width}}  {shown:<40}  ({effective.sources[name]})")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .service.tenancy import create_tenant

    settings = _settings(args)
    store = _store(settings)
    try:
        tenant = create_tenant(
            store,
            name=args.name,
            public_url=args.public_url,
            allowed_domains=args.allowed_domain or ["localhost", "127.0.0.1"],
            redirect_uris=args.redirect_uri or [],
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(tenant.to_wire()))
    else:
        print(f"site id: {tenant.site_id}\nclient id: {tenant.client_id}\nAPI key: {tenant.api_key}")
    return 0


def cmd_members_create(args: argparse.Namespace) -> int:
    from .service.members import LoginFailed, MemberService
    from .storage.identity import IdentityStore

    settings = _settings(args)
    store = _store(settings)
    if store.get_site(args.site_id) is None:
        print(f"error: no site {args.site_id}", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else ""
    try:
        member = MemberService(IdentityStore(store.db)).create(args.site_id, args.email, password)
    except LoginFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"memberId": member.id, "siteId": member.site_id, "email": member.email}))
    return 0


def cmd_sites_set(args: argparse.Namespace) -> int:
    from .flows import ProviderContext, load_provider

    store = _store(_settings(args))
    values: dict[str, object] = {}
    if args.flow_provider:
        try:
            load_provider(args.flow_provider, ProviderContext(orders=None))
        except (ValueError, ImportError, AttributeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        values["flow_provider"] = args.flow_provider
    if args.base_url:
        values["base_url"] = args.base_url.rstrip("/")
    if args.registration:
        values["registration_policy"] = args.registration
    if not values or not store.update_site(args.site_id, **values):
        print("error: nothing to change, or no such site", file=sys.stderr)
        return 2
    return 0


def cmd_sites_pages(args: argparse.Namespace) -> int:
    """Set the custom page of one intent (used with useGenericWixPages=false / checkIfPublish)."""
    from .domain.intents import INTENTS

    store = _store(_settings(args))
    site = store.get_site(args.site_id)
    if site is None or args.intent not in INTENTS or args.intent == "auth" or not args.path.startswith("/"):
        print("error: unknown site, an intent other than auth, and a path starting with / are needed",
              file=sys.stderr)
        return 2
    pages = dict(site.page_settings)
    if args.remove:
        pages.pop(args.intent, None)
    else:
        pages[args.intent] = {"path": args.path, "published": args.published}
    store.update_site(args.site_id, page_settings=pages)
    print(json.dumps(pages))
    return 0


def _print_rows(rows: list[dict[str, object]]) -> None:
    for row in rows:
        print(json.dumps(row, default=str))


def cmd_apps(args: argparse.Namespace) -> int:
    import time
    import uuid

    from .domain.callbacks import UrlProblem, normalize_domain, parse_absolute_url
    from .storage.repository import AppRow

    store = _store(_settings(args))
    if store.get_site(args.site_id) is None:
        print(f"error: no site {args.site_id}", file=sys.stderr)
        return 2
    if args.apps_command == "list":
        _print_rows([{"clientId": a.client_id, "name": a.name, "allowedDomains": a.allowed_domains,
                      "redirectUris": a.redirect_uris} for a in store.site_apps(args.site_id)])
        return 0
    for uri in args.redirect_uri or []:
        if isinstance(parse_absolute_url(uri), UrlProblem):
            print(f"error: bad redirect URI {uri!r}", file=sys.stderr)
            return 2
    try:
        origins = cli_admin.parse_origins(args.allowed_origin)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = AppRow(str(uuid.uuid4()), args.site_id, args.name,
                 sorted({normalize_domain(d) for d in args.allowed_domain or []}), list(args.redirect_uri or []),
                 int(time.time()), allowed_origins=origins, updated_at=time.time_ns() // 1_000_000)
    store.insert_app(app)
    print(json.dumps({"clientId": app.client_id}))
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    import time
    import uuid

    from .service.keys import KeyRing
    from .service.secrets import digest, new_secret
    from .service.tenancy import API_KEY_SCOPE
    from .storage.repository import ApiKeyRow

    settings = _settings(args)
    store = _store(settings)
    if args.keys_command == "rotate-signing":
        ring = KeyRing(store, issuer=settings.public_url)
        ring.load()
        print(json.dumps({"kid": ring.rotate()}))
        return 0
    if args.keys_command == "revoke":
        if not store.revoke_api_key(args.key_id, int(time.time())):
            print("error: no such active key", file=sys.stderr)
            return 2
        return 0
    if store.get_site(args.site_id) is None:
        print(f"error: no site {args.site_id}", file=sys.stderr)
        return 2
    if args.keys_command == "list":
        _print_rows([{"id": k.id, "name": k.name, "scopes": k.scopes, "revoked": k.revoked_at is not None}
                     for k in store.site_api_keys(args.site_id)])
        return 0
    secret = new_secret("hrk_")
    scopes = list(dict.fromkeys(args.scope or [API_KEY_SCOPE]))
    key = ApiKeyRow(str(uuid.uuid4()), digest(secret), args.site_id, args.name, scopes, int(time.time()), None)
    store.insert_api_key(key)
    print(json.dumps({"id": key.id, "apiKey": secret}))
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    store = _store(_settings(args))
    now = int(time.time())
    if args.sessions_command == "show":
        session = store.get_session(args.session_id)
        if session is None:
            print("error: no such session", file=sys.stderr)
            return 2
        row = dataclasses.asdict(session)
        row.pop("session_token_hash")
        row.pop("bound_browser")
        print(json.dumps({**row, "state": session.state_at(now)}, indent=2, default=str))
        return 0
    _print_rows([{"id": s.id, "intent": s.intent, "state": s.state_at(now), "siteId": s.site_id,
                  "createdAt": s.created_at, "expiresAt": s.expires_at}
                 for s in store.list_sessions(args.site_id, args.limit)])
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    import time

    store = _store(_settings(args))
    print(json.dumps({"deleted": store.purge_expired(int(time.time()), args.keep_days * 86400)}))
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="headless-redirects", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="SQLAlchemy URL (default: $HEADLESS_REDIRECTS_DATABASE_URL, "
                        "else sqlite:///headless-redirects.db)")
    common.add_argument("--config", metavar="FILE", help="a TOML file of settings (default: "
                        "$HEADLESS_REDIRECTS_CONFIG); the environment and flags override it")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common], help="run the service")
    defaults = Settings.model_fields
    serve.add_argument("--host", help=f"address to listen on (default: {defaults['host'].default}; "
                       "0.0.0.0 for every interface)")
    serve.add_argument("--port", type=_port, help=f"port to listen on (default: {defaults['port'].default})")
    serve.add_argument("--workers", type=_positive, metavar="N",
                       help=f"worker processes (default: {defaults['workers'].default})")
    serve.add_argument("--public-url", metavar="URL",
                       help="where browsers reach the service (default: http://<host>:<port>)")
    serve.set_defaults(func=cmd_serve)

    config_cmd = sub.add_parser("config", parents=[common], help="print the effective settings, secrets masked")
    config_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    config_cmd.set_defaults(func=cmd_config)

    init = sub.add_parser("init", parents=[common], help="create a site, an OAuth app and an API key")
    init.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    init.add_argument("--name", default="My site")
    init.add_argument("--public-url", help="base URL of the site's hosted pages (default: the server's)")
    init.add_argument("--allowed-domain", action="append", metavar="HOST",
                      help="a host callback URLs may point to (repeatable; default localhost, 127.0.0.1)")
    init.add_argument("--redirect-uri", action="append", metavar="URI",
                      help="an exact OAuth redirect URI (repeatable)")
    init.set_defaults(func=cmd_init)

    members = sub.add_parser("members", help="manage members").add_subparsers(dest="members_command", required=True)
    create = members.add_parser("create", parents=[common], help="create a member (argon2id password)")
    create.add_argument("--site-id", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the password from the first line of standard input")
    create.set_defaults(func=cmd_members_create)
    cli_admin.add_member_commands(members, common, _with_store)
    cli_admin.add_mail_commands(sub, common, _with_store)
    add_webhook_commands(sub, common, _with_store)

    sites_cmd = sub.add_parser("sites", help="configure sites").add_subparsers(dest="sites_command", required=True)
    set_cmd = sites_cmd.add_parser("set", parents=[common], help="a site's flow provider or base URL")
    set_cmd.add_argument("--site-id", required=True)
    set_cmd.add_argument("--flow-provider", help="'demo' or 'package.module:Class'")
    set_cmd.add_argument("--base-url", help="where the site's hosted pages are served")
    set_cmd.add_argument("--registration", choices=["open", "verify-email", "approval"],
                         help="who may join through the identity API: anyone, after an emailed code, or after "
                              "`members approve`")
    set_cmd.set_defaults(func=cmd_sites_set)
    pages = sites_cmd.add_parser("pages", parents=[common], help="a site's custom page for an intent")
    pages.add_argument("--site-id", required=True)
    pages.add_argument("--intent", required=True)
    pages.add_argument("--path", default="/", help="the custom page's path on the site's base URL")
    pages.add_argument("--published", action="store_true", help="the page is published (for checkIfPublish)")
    pages.add_argument("--remove", action="store_true", help="forget the intent's custom page")
    pages.set_defaults(func=cmd_sites_pages)

    apps = sub.add_parser("apps", help="OAuth apps").add_subparsers(dest="apps_command", required=True)
    apps_list = apps.add_parser("list", parents=[common])
    apps_list.add_argument("--site-id", required=True)
    apps_create = apps.add_parser("create", parents=[common])
    apps_create.add_argument("--site-id", required=True)
    apps_create.add_argument("--name", default="app")
    apps_create.add_argument("--allowed-domain", action="append", metavar="HOST")
    apps_create.add_argument("--redirect-uri", action="append", metavar="URI")
    apps_create.add_argument("--allowed-origin", action="append", metavar="ORIGIN",
                             help="a browser origin (https://host[:port]) that may call the API beyond those of "
                                  "the allowed domains (repeatable)")
    for p in (apps_list, apps_create):
        p.set_defaults(func=cmd_apps)
    cli_admin.add_apps_update(apps, common, _with_store)

    keys = sub.add_parser("keys", help="API keys and signing keys").add_subparsers(dest="keys_command", required=True)
    keys_list = keys.add_parser("list", parents=[common])
    keys_list.add_argument("--site-id", required=True)
    keys_create = keys.add_parser("create", parents=[common], help="a new API key, printed once")
    keys_create.add_argument("--site-id", required=True)
    keys_create.add_argument("--name", default="key")
    keys_create.add_argument("--scope", action="append", metavar="SCOPE",
                             help="a scope of the key (repeatable; default SCOPE.PROMOTE.VIEW-SEO). "
                                  "SCOPE.IAM.SIGN-ON lets a backend log members in (sign-on, authorized_client)")
    keys_revoke = keys.add_parser("revoke", parents=[common])
    keys_revoke.add_argument("--key-id", required=True)
    keys_rotate = keys.add_parser("rotate-signing", parents=[common],
                                  help="a new token signing key; old ones verify until their tokens expire")
    for p in (keys_list, keys_create, keys_revoke, keys_rotate):
        p.set_defaults(func=cmd_keys)

    sessions = sub.add_parser("sessions", help="redirect sessions").add_subparsers(dest="sessions_command",
                                                                                   required=True)
    sessions_list = sessions.add_parser("list", parents=[common])
    sessions_list.add_argument("--site-id")
    sessions_list.add_argument("--limit", type=int, default=20)
    sessions_show = sessions.add_parser("show", parents=[common])
    sessions_show.add_argument("session_id")
    for p in (sessions_list, sessions_show):
        p.set_defaults(func=cmd_sessions)

    purge = sub.add_parser("purge", parents=[common], help="delete sessions and tokens long expired")
    purge.add_argument("--keep-days", type=int, default=7)
    purge.set_defaults(func=cmd_purge)
    return parser


def _port(value: str) -> int:
    number = _int(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: use 1 to 65535")
    return number


def _positive(value: str) -> int:
    number = _int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return number


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
