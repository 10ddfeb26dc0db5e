"""The ``headless-redirects`` command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__, cli_admin, startup
from .cli_admin import print_result
from .cli_webhooks import add_webhook_commands
from .config import CommandError, Effective, export_env, load, masked
from .settings import Settings

__all__ = ["build_parser", "main"]

DEV_REDIRECT_URIS = ("http://localhost:3000/callback", "http://127.0.0.1:3000/callback")


def _effective(args: argparse.Namespace, **flags: object) -> Effective:
    """Defaults < configuration file < environment < these flags (None: not given)."""
    return load({**flags, "database_url": getattr(args, "database_url", None)},
                config_file=getattr(args, "config", None))


def _settings(args: argparse.Namespace, **flags: object) -> Settings:
    return _effective(args, **flags).settings


_opened: list[Any] = []


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    store = startup.open_store(settings.database_url)
    _opened.append(store)  # closed when the command ends (main)
    return store


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def iso(seconds: int | None) -> str | None:
    """ISO 8601 in UTC, as every command prints times."""
    import time

    return None if seconds is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _with_store(fn: Callable[[argparse.Namespace, Any], int]) -> Callable[[argparse.Namespace], int]:
    """A command that runs on the migrated database named by the settings."""
    def run(args: argparse.Namespace) -> int:
        return fn(args, _store(_settings(args)))
    return run


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .logs import configure
    from .service.keys import KeyRing
    from .service.tenancy import create_tenant

    effective = _effective(args, host=args.host, port=args.port, workers=args.workers, public_url=args.public_url)
    settings = effective.settings
    # From here on standard error is the service's log: warnings are log lines like uvicorn's.
    configure(settings.log_level, settings.log_format)
    log = logging.getLogger("headless_redirects.serve")
    # Checked in this order so that nothing is created when the server could not run.
    url, warning = startup.public_url(settings, explicit=effective.sources["public_url"] != "default")
    if warning:
        log.warning(warning)
    settings = settings.model_copy(update={"public_url": url})
    startup.check_port(settings.host, settings.port)
    store = _store(settings)
    KeyRing(store, issuer=settings.public_url).load()
    tenant = None
    if store.count_sites() == 0:
        tenant = create_tenant(
            store,
            name="Development site",
            public_url=None,
            allowed_domains=["localhost", "127.0.0.1"],
            redirect_uris=list(DEV_REDIRECT_URIS),
        )
    _opened.remove(store)
    store.db.dispose()
    if args.json:
        print(json.dumps({"publicUrl": settings.public_url, "database": _redacted(settings.database_url),
                          "developmentSite": tenant.to_wire() if tenant else None}), flush=True)
    elif tenant is not None:
        print("Created a development site on the empty database (allowed domains: localhost, 127.0.0.1;")
        print(f"redirect URIs: {', '.join(DEV_REDIRECT_URIS)}). In a shell, for the README's examples:")
        print(f"  export HR_URL={settings.public_url}")
        print(f"  export SITE_ID={tenant.site_id}")
        print(f"  export CLIENT_ID={tenant.client_id}")
        print(f"  export API_KEY={tenant.api_key}   # shown once; stored only as a hash")
    if not args.json:
        print(f"Serving on {settings.public_url} (database: {_redacted(settings.database_url)})", flush=True)
    if settings.workers > 1 and settings.database_url.startswith("sqlite"):
        # Measured (docs/benchmarks.md): the workers' writes queue on SQLite's one write lock.
        log.warning("several workers on one SQLite database write one at a time (SQLite has a single "
                    "write lock): writes get slower and their latency spikes, reads gain. For more than one "
                    "worker, use PostgreSQL (HEADLESS_REDIRECTS_DATABASE_URL=postgresql://...); see "
                    "docs/benchmarks.md")
    # Workers build their app from the environment (see web.app.app_from_env): all of it.
    export_env(settings, os.environ)
    metrics_dir = None
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        # /metrics then adds up the workers' numbers (web.metrics); a fresh folder per run,
        # removed when serve ends.
        metrics_dir = tempfile.TemporaryDirectory(prefix="headless-redirects-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir.name
    try:
        _run_uvicorn(uvicorn, settings)
    finally:
        if metrics_dir is not None:
            metrics_dir.cleanup()
    return 0


def _run_uvicorn(uvicorn: Any, settings: Settings) -> None:
    from .logs import logging_config

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


def cmd_config(args: argparse.Namespace) -> int:
    effective = _effective(args)
    values = masked(effective.settings)
    if args.json:
        print(json.dumps(values))
        return 0
    if effective.config_file:
        print(f"configuration file: {effective.config_file}")
    print_result([{"setting": name, "value": _shown(value), "from": effective.sources[name]}
                  for name, value in values.items()], False)
    return 0


def _shown(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


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
        return _fail(str(exc))
    # SPEC §6: with --json, exactly this one object on stdout.
    print_result(tenant.to_wire(), args.json)
    return 0


def cmd_members_create(args: argparse.Namespace) -> int:
    from .service.members import LoginFailed, MemberService
    from .storage.identity import IdentityStore

    settings = _settings(args)
    store = _store(settings)
    if store.get_site(args.site_id) is None:
        return _fail(f"no site {args.site_id}")
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else ""
    try:
        member = MemberService(IdentityStore(store.db)).create(args.site_id, args.email, password)
    except LoginFailed as exc:
        return _fail(str(exc))
    print_result({"id": member.id, "siteId": member.site_id, "email": member.email}, args.json)
    return 0


def _site(site: Any) -> dict[str, Any]:
    return {"id": site.id, "name": site.name, "baseUrl": site.base_url, "flowProvider": site.flow_provider,
            "registration": site.registration_policy, "pages": site.page_settings,
            "createdDate": iso(site.created_at)}


def cmd_sites_set(args: argparse.Namespace) -> int:
    from .flows import ProviderContext, load_provider

    store = _store(_settings(args))
    values: dict[str, object] = {}
    if args.flow_provider:
        try:
            load_provider(args.flow_provider, ProviderContext(orders=None))
        except (ValueError, ImportError, AttributeError) as exc:
            return _fail(f"--flow-provider {args.flow_provider!r}: {exc}")
        values["flow_provider"] = args.flow_provider
    if args.base_url:
        values["base_url"] = args.base_url
    if args.registration:
        values["registration_policy"] = args.registration
    if not values:
        return _fail("nothing to change: give --flow-provider, --base-url or --registration")
    if not store.update_site(args.site_id, **values):
        return _fail(f"no site {args.site_id}")
    print_result(_site(store.get_site(args.site_id)), args.json)
    return 0


def cmd_sites_pages(args: argparse.Namespace) -> int:
    """Set the custom page of one intent (used with useGenericWixPages=false / checkIfPublish)."""
    store = _store(_settings(args))
    site = store.get_site(args.site_id)
    if site is None:
        return _fail(f"no site {args.site_id}")
    pages = dict(site.page_settings)
    if args.remove:
        pages.pop(args.intent, None)
    else:
        pages[args.intent] = {"path": args.path, "published": args.published}
    store.update_site(args.site_id, page_settings=pages)
    print_result([{"intent": k, **v} for k, v in pages.items()] if not args.json else pages, args.json)
    return 0


def _app(a: Any) -> dict[str, Any]:
    return {"clientId": a.client_id, "name": a.name, "allowedDomains": a.allowed_domains,
            "redirectUris": a.redirect_uris, "allowedOrigins": a.allowed_origins, "createdDate": iso(a.created_at)}


def cmd_apps(args: argparse.Namespace) -> int:
    import time
    import uuid

    from .domain.callbacks import UrlProblem, normalize_domain, parse_absolute_url
    from .storage.repository import AppRow

    store = _store(_settings(args))
    if store.get_site(args.site_id) is None:
        return _fail(f"no site {args.site_id}")
    if args.apps_command == "list":
        print_result([_app(a) for a in store.site_apps(args.site_id)], args.json)
        return 0
    for uri in args.redirect_uri or []:
        if isinstance(parse_absolute_url(uri), UrlProblem):
            return _fail(f"bad redirect URI {uri!r}")
    try:
        origins = cli_admin.parse_origins(args.allowed_origin)
    except ValueError as exc:
        return _fail(str(exc))
    app = AppRow(str(uuid.uuid4()), args.site_id, args.name,
                 sorted({normalize_domain(d) for d in args.allowed_domain or []}), list(args.redirect_uri or []),
                 int(time.time()), allowed_origins=origins, updated_at=time.time_ns() // 1_000_000)
    store.insert_app(app)
    print_result(_app(app), args.json)
    return 0


def _key(k: Any) -> dict[str, Any]:
    return {"id": k.id, "name": k.name, "scopes": k.scopes, "createdDate": iso(k.created_at),
            "revokedDate": iso(k.revoked_at)}


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
        print_result({"kid": ring.rotate()}, args.json)
        return 0
    if args.keys_command == "revoke":
        if not store.revoke_api_key(args.key_id, int(time.time())):
            return _fail(f"no active key {args.key_id}")
        print_result({"id": args.key_id, "revoked": True}, args.json)
        return 0
    if store.get_site(args.site_id) is None:
        return _fail(f"no site {args.site_id}")
    if args.keys_command == "list":
        print_result([_key(k) for k in store.site_api_keys(args.site_id)], args.json)
        return 0
    secret = new_secret("hrk_")
    scopes = list(dict.fromkeys(args.scope or [API_KEY_SCOPE]))
    key = ApiKeyRow(str(uuid.uuid4()), digest(secret), args.site_id, args.name, scopes, int(time.time()), None)
    store.insert_api_key(key)
    print_result({"id": key.id, "apiKey": secret, "scopes": scopes}, args.json)
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    import time

    from .service.session_view import session_wire

    settings = _settings(args)
    store = _store(settings)
    now = int(time.time())
    if args.sessions_command == "show":
        session = store.get_session(args.session_id)
        if session is None:
            return _fail(f"no session {args.session_id}")
        # The session API's view (SPEC §12), and what an operator also needs to see.
        shown = {**session_wire(session, settings.public_url, now), "siteId": session.site_id,
                 "clientId": session.client_id, "params": session.params, "preferences": session.preferences,
                 "lang": session.lang, "creatorType": session.creator_type, "creatorId": session.creator_id}
        print_result(shown if args.json else {k: _shown(v) for k, v in shown.items()}, args.json)
        return 0
    print_result([{"id": s.id, "intent": s.intent, "state": s.state_at(now), "siteId": s.site_id,
                   "createdDate": iso(s.created_at), "expiresDate": iso(s.expires_at)}
                  for s in store.list_sessions(args.site_id, args.limit)], args.json)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    import time

    store = _store(_settings(args))
    print_result({"deleted": store.purge_expired(int(time.time()), args.keep_days * 86400)}, args.json)
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- the parser ------------------------------------------------------------------------------

DESCRIPTION = """\
headless-redirects: a self-hostable redirect-session and OAuth token service.

`serve` runs it; the other commands administer its database (the one `serve` uses: the same
--database-url, --config file or HEADLESS_REDIRECTS_* variables). Every command takes --json
and then prints one JSON document on stdout; without it, a table or `key: value` lines."""

EPILOG = """\
exit codes:
  0  done
  1  an unexpected error, or a check the command ran failed (webhooks test: no 2xx)
  2  invalid usage, a bad setting or input, or an unknown id
  3  not ready: the database is unreachable or read-only, or the port cannot be listened on

Settings: `headless-redirects config` prints them; docs/operations.md runs the service in production."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, unless it has none or its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) \
                and "default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _host_or_host_port(value: str) -> str:
    """An allowed-domain entry: ``host`` (any port) or ``host:port``; no scheme, path or slash."""
    entry = value.strip().lower().rstrip(".")
    host, _, port = entry.rpartition(":") if _PORTED.fullmatch(entry) else (entry, "", "")
    if _HOST.fullmatch(host) and (not port or 1 <= int(port) <= 65535):
        return entry
    from urllib.parse import urlsplit

    hint = urlsplit(value.strip()).netloc if "://" in value else ""
    raise argparse.ArgumentTypeError(f"{value!r} is not a host or host:port" +
                                     (f"; did you mean {hint.lower()}?" if hint else ""))


_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_PORTED = re.compile(r".+:\d{1,5}")


def _http_url(value: str) -> str:
    try:
        return startup.check_url(value, "URL")
    except CommandError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def build_parser() -> argparse.ArgumentParser:
    from .domain.intents import INTENTS

    parser = _Parser(prog="headless-redirects", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--database-url", metavar="URL", help="SQLAlchemy URL (default: "
                        "$HEADLESS_REDIRECTS_DATABASE_URL, else sqlite:///headless-redirects.db)")
    common.add_argument("--config", metavar="FILE", help="a TOML file of settings (default: "
                        "$HEADLESS_REDIRECTS_CONFIG); the environment and flags override it")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the service")
    defaults = Settings.model_fields
    serve.add_argument("--host", help=f"address to listen on (default: {defaults['host'].default}; "
                       "0.0.0.0 for every interface)")
    serve.add_argument("--port", type=_port, help=f"port to listen on (default: {defaults['port'].default})")
    serve.add_argument("--workers", type=_positive, metavar="N",
                       help=f"worker processes (default: {defaults['workers'].default})")
    serve.add_argument("--public-url", metavar="URL",
                       help="where browsers reach the service (default: http://<host>:<port>)")
    serve.add_argument("--json", action="store_true",
                       help="print what it started (and the development site it created) as one JSON object")
    serve.set_defaults(func=cmd_serve)

    config_cmd = sub.add_parser("config", parents=[common], help="print the effective settings, secrets masked")
    _json_flag(config_cmd)
    config_cmd.set_defaults(func=cmd_config)

    init = sub.add_parser("init", parents=[common], help="create a site, an OAuth app and an API key")
    init.add_argument("--json", action="store_true", help='print one object {"siteId", "clientId", "apiKey"} '
                      "and nothing else")
    init.add_argument("--name", default="My site", help="the site's name")
    init.add_argument("--public-url", type=_http_url, metavar="URL",
                      help="base URL of the site's hosted pages (default: the server's)")
    init.add_argument("--allowed-domain", action="append", metavar="HOST", type=_host_or_host_port,
                      help="a host (any port) or host:port callback URLs may point to (repeatable; "
                           "default: localhost and 127.0.0.1)")
    init.add_argument("--redirect-uri", action="append", metavar="URI",
                      help="an exact OAuth redirect URI (repeatable)")
    init.set_defaults(func=cmd_init)

    members = sub.add_parser("members", help="members of a site").add_subparsers(
        dest="members_command", required=True, metavar="COMMAND")
    create = members.add_parser("create", parents=[common], help="create a member (argon2id password)")
    create.add_argument("--site-id", required=True, help="the site")
    create.add_argument("--email", required=True, help="the member's email, its login")
    create.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the password from the first line of standard input")
    _json_flag(create)
    create.set_defaults(func=cmd_members_create)
    cli_admin.add_member_commands(members, common, _with_store)
    cli_admin.add_mail_commands(sub, common, _with_store)
    add_webhook_commands(sub, common, _with_store)

    sites_cmd = sub.add_parser("sites", help="configure sites").add_subparsers(
        dest="sites_command", required=True, metavar="COMMAND")
    set_cmd = sites_cmd.add_parser("set", parents=[common],
                                   help="a site's flow provider, base URL or registration policy")
    set_cmd.add_argument("--site-id", required=True, help="the site")
    set_cmd.add_argument("--flow-provider", metavar="NAME", help="'demo' or 'package.module:Class'")
    set_cmd.add_argument("--base-url", type=_http_url, metavar="URL",
                         help="where the site's hosted pages are served (an absolute http(s) URL)")
    set_cmd.add_argument("--registration", choices=["open", "verify-email", "approval"],
                         help="who may join through the identity API: anyone, after an emailed code, or after "
                              "`members approve`")
    _json_flag(set_cmd)
    set_cmd.set_defaults(func=cmd_sites_set)
    pages = sites_cmd.add_parser("pages", parents=[common], help="a site's custom page for an intent")
    pages.add_argument("--site-id", required=True, help="the site")
    pages.add_argument("--intent", required=True, choices=[i for i in INTENTS if i != "auth"], metavar="INTENT",
                       help="the intent whose page it is (any intent but auth, e.g. ecomCheckout)")
    pages.add_argument("--path", default="/", type=_path, help="the custom page's path on the site's base URL")
    pages.add_argument("--published", action="store_true", help="the page is published (for checkIfPublish)")
    pages.add_argument("--remove", action="store_true", help="forget the intent's custom page")
    _json_flag(pages)
    pages.set_defaults(func=cmd_sites_pages)

    apps = sub.add_parser("apps", help="OAuth apps").add_subparsers(dest="apps_command", required=True,
                                                                    metavar="COMMAND")
    apps_list = apps.add_parser("list", parents=[common], help="a site's apps")
    apps_list.add_argument("--site-id", required=True, help="the site")
    apps_create = apps.add_parser("create", parents=[common], help="a new app (client id) of a site")
    apps_create.add_argument("--site-id", required=True, help="the site")
    apps_create.add_argument("--name", default="app", help="the app's name")
    apps_create.add_argument("--allowed-domain", action="append", metavar="HOST", type=_host_or_host_port,
                             help="a host (any port) or host:port callback URLs may point to (repeatable)")
    apps_create.add_argument("--redirect-uri", action="append", metavar="URI",
                             help="an exact OAuth redirect URI (repeatable)")
    apps_create.add_argument("--allowed-origin", action="append", metavar="ORIGIN",
                             help="a browser origin (https://host[:port]) that may call the API beyond those of "
                                  "the allowed domains (repeatable)")
    for p in (apps_list, apps_create):
        _json_flag(p)
        p.set_defaults(func=cmd_apps)
    cli_admin.add_apps_update(apps, common, _with_store)

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
        _json_flag(p)
        p.set_defaults(func=cmd_keys)

    sessions = sub.add_parser("sessions", help="redirect sessions").add_subparsers(
        dest="sessions_command", required=True, metavar="COMMAND")
    sessions_list = sessions.add_parser("list", parents=[common], help="the newest sessions")
    sessions_list.add_argument("--site-id", help="only this site's (default: every site's)")
    sessions_list.add_argument("--limit", type=_positive, default=20, help="how many")
    sessions_show = sessions.add_parser("show", parents=[common], help="one session")
    sessions_show.add_argument("session_id", metavar="ID", help="the session's id (redirectSession.id)")
    for p in (sessions_list, sessions_show):
        _json_flag(p)
        p.set_defaults(func=cmd_sessions)

    purge = sub.add_parser("purge", parents=[common], help="delete sessions and refresh tokens long expired")
    purge.add_argument("--keep-days", type=_non_negative, default=7, metavar="DAYS",
                       help="keep what expired fewer than this many days ago (0: delete all that expired)")
    _json_flag(purge)
    purge.set_defaults(func=cmd_purge)

    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """A command's --help starts with the line the list of commands shows for it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                child = action.choices[choice.dest]
                if child.description is None:
                    child.description = choice.help
                _describe(child)


def _path(value: str) -> str:
    if not value.startswith("/"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a path starting with /")
    return value


def _non_negative(value: str) -> int:
    number = _int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: use 0 or more")
    return number


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
    finally:
        while _opened:
            _opened.pop().db.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
