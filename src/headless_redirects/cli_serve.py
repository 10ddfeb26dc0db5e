"""``headless-redirects serve`` (SPEC §6) and ``config``: run the service, show its settings."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from typing import Any

from . import startup
from .cli_common import effective, json_flag, port, positive, print_result, shown
from .config import export_env, masked
from .settings import Settings

__all__ = ["DEV_REDIRECT_URIS", "add_serve_commands"]

DEV_REDIRECT_URIS = ("http://localhost:3000/callback", "http://127.0.0.1:3000/callback")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .bootstrap import bootstrap_admin
    from .cli_sites import new_site
    from .logs import configure

    if threading.current_thread() is threading.main_thread():
        # SIGINT stops the server from its first moment, as uvicorn's handler does once its server
        # starts: a server started with SIGINT ignored (``serve &`` in a script) would otherwise
        # lose a SIGINT sent before then and run on.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    found = effective(args, host=args.host, port=args.port, workers=args.workers, public_url=args.public_url)
    settings = found.settings
    # From here on standard error is the service's log: warnings are log lines like uvicorn's.
    configure(settings.log_level, settings.log_format)
    log = logging.getLogger("headless_redirects.serve")
    # Checked in this order so that nothing is created when the server could not run.
    url, warning = startup.public_url(settings, explicit=found.sources["public_url"] != "default")
    if warning:
        log.warning(warning)
    settings = settings.model_copy(update={"public_url": url})
    startup.check_port(settings.host, settings.port)
    # Migrates, and creates the first signing key, before any worker starts.
    admin = bootstrap_admin(settings)
    try:
        tenant = admin.development_site(allowed_domains=["localhost", "127.0.0.1"],
                                        redirect_uris=list(DEV_REDIRECT_URIS))
    finally:
        admin.close()
    if args.json:
        print(json.dumps({"publicUrl": settings.public_url, "database": _redacted(settings.database_url),
                          "developmentSite": new_site(tenant) if tenant else None}), flush=True)
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
        log.warning("several workers on one SQLite database take turns at writing (SQLite has a single "
                    "write lock): reads gain from more workers, writes do not. For more than one "
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


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_config(args: argparse.Namespace) -> int:
    found = effective(args)
    values = masked(found.settings)
    if args.json:
        print(json.dumps(values))
        return 0
    if found.config_file:
        print(f"configuration file: {found.config_file}")
    print_result([{"setting": name, "value": shown(value), "from": found.sources[name]}
                  for name, value in values.items()], False)
    return 0


def add_serve_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common], help="run the service")
    defaults = Settings.model_fields
    serve.add_argument("--host", help=f"address to listen on (default: {defaults['host'].default}; "
                       "0.0.0.0 for every interface)")
    serve.add_argument("--port", type=port, help=f"port to listen on (default: {defaults['port'].default})")
    serve.add_argument("--workers", type=positive, metavar="N",
                       help=f"worker processes (default: {defaults['workers'].default})")
    serve.add_argument("--public-url", metavar="URL",
                       help="where browsers reach the service (default: http://<host>:<port>)")
    serve.add_argument("--json", action="store_true",
                       help="print what it started (and the development site it created) as one JSON object")
    serve.set_defaults(func=cmd_serve)

    config_cmd = sub.add_parser("config", parents=[common], help="print the effective settings, secrets masked")
    json_flag(config_cmd)
    config_cmd.set_defaults(func=cmd_config)
