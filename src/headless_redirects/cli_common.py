"""What every ``headless-redirects`` command shares: its settings, the admin service it runs on,
how it prints, how it fails, and the option types its parsers use."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import startup
from .config import CommandError, Effective, load
from .settings import Settings

if TYPE_CHECKING:
    from .service.admin import AdminService

__all__ = [
    "AdminCommand", "effective", "fail", "host_or_host_port", "http_url", "iso", "iso_ms", "json_flag",
    "non_negative", "path", "port", "positive", "print_result", "settings", "shown", "with_admin",
]

AdminCommand = Callable[[argparse.Namespace, "AdminService"], int]


def effective(args: argparse.Namespace, **flags: object) -> Effective:
    """Defaults < configuration file < environment < these flags (None: not given)."""
    return load({**flags, "database_url": getattr(args, "database_url", None)},
                config_file=getattr(args, "config", None))


def settings(args: argparse.Namespace, **flags: object) -> Settings:
    return effective(args, **flags).settings


def with_admin(fn: AdminCommand) -> Callable[[argparse.Namespace], int]:
    """A command that runs on the admin service over the database named by the settings; a
    refusal of the service is one line on standard error and exit code 2."""
    def run(args: argparse.Namespace) -> int:
        # Imported when a command runs: `--help` and `config` need none of the service.
        from .bootstrap import bootstrap_admin
        from .service.admin_results import AdminError

        admin = bootstrap_admin(settings(args))
        try:
            return fn(args, admin)
        except AdminError as exc:
            return fail(str(exc))
        finally:
            admin.close()
    return run


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


# --- output ---------------------------------------------------------------------------------

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


def shown(value: object) -> str:
    """A value on a ``key: value`` line: text as it is, anything else as JSON."""
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def iso(seconds: int | None) -> str | None:
    """ISO 8601 in UTC, as every command prints times."""
    return None if seconds is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def iso_ms(ms: int | None) -> str | None:
    """ISO 8601 in UTC with milliseconds (webhook deliveries)."""
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


# --- option types ---------------------------------------------------------------------------

def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def host_or_host_port(value: str) -> str:
    """An allowed-domain entry: ``host`` (any port) or ``host:port``; no scheme, path or slash."""
    entry = value.strip().lower().rstrip(".")
    host, _, number = entry.rpartition(":") if _PORTED.fullmatch(entry) else (entry, "", "")
    if _HOST.fullmatch(host) and (not number or 1 <= int(number) <= 65535):
        return entry
    from urllib.parse import urlsplit

    hint = urlsplit(value.strip()).netloc if "://" in value else ""
    raise argparse.ArgumentTypeError(f"{value!r} is not a host or host:port" +
                                     (f"; did you mean {hint.lower()}?" if hint else ""))


_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_PORTED = re.compile(r".+:\d{1,5}")


def http_url(value: str) -> str:
    try:
        return startup.check_url(value, "URL")
    except CommandError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def path(value: str) -> str:
    if not value.startswith("/"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a path starting with /")
    return value


def non_negative(value: str) -> int:
    number = _int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: use 0 or more")
    return number


def port(value: str) -> int:
    number = _int(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: use 1 to 65535")
    return number


def positive(value: str) -> int:
    number = _int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return number


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
