"""Start-up checks: each failure is one line that says what to do, raised before anything is
created (no development site, no "Serving on").

- the database URL parses, names a known backend, and the database is reachable and writable
  (migrations are applied as part of the check);
- the port is free on the host;
- the public URL is an absolute http(s) URL; a warning when browsers could not reach it
  (``0.0.0.0``, ``::``).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from .config import CommandError, ConfigError

if TYPE_CHECKING:
    from .settings import Settings
    from .storage.database import Database

__all__ = ["NotReady", "check_port", "check_url", "open_database", "public_url"]

_URL_EXAMPLES = "for example sqlite:///data/headless-redirects.db or postgresql://user@host:5432/dbname"
_UNREACHABLE_HOSTS = ("0.0.0.0", "::")


class NotReady(CommandError):
    """What the command needs from its environment is not there: the database, the port."""

    exit_code = 3


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_database(database_url: str) -> Database:
    """A database that is reachable, migrated and writable."""
    from .storage.database import Database, normalize_url
    from .storage.migrate import upgrade

    try:
        parsed = make_url(normalize_url(database_url))
    except ArgumentError:
        raise ConfigError(f"the database URL {database_url!r} is not a URL; {_URL_EXAMPLES}") from None
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed.database)
    try:
        db = Database(database_url)
    except (NoSuchModuleError, ArgumentError, ImportError):
        raise ConfigError(f"the database URL {_redacted(database_url)} names an unknown database; "
                          f"{_URL_EXAMPLES}") from None
    try:
        upgrade(db.engine)
        _check_writable(db.engine)
    except SQLAlchemyError as exc:
        db.dispose()
        raise NotReady(_database_problem(_redacted(database_url), parsed, exc)) from None
    return db


def _check_sqlite_path(path: str | None) -> None:
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    folder = file.parent.resolve() if str(file.parent) else Path.cwd()
    if folder.exists() and not folder.is_dir():
        raise NotReady(f"{folder}, where the SQLite database should be, is not a folder: choose another "
                       "--database-url")
    if not folder.is_dir():
        raise NotReady(f"the folder {folder} of the SQLite database does not exist: create it "
                       f"(mkdir -p {folder}) or choose another --database-url")
    if file.exists() and not os.access(file, os.R_OK | os.W_OK):
        raise NotReady(f"cannot write the SQLite database {file.resolve()}: give this user write permission "
                       "or choose another --database-url")
    # SQLite writes its journal files beside the database.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NotReady(f"cannot write in {folder}, where the SQLite database and its journal live: give this "
                       "user write permission or choose another --database-url")


def _check_writable(engine: object) -> None:
    import sqlalchemy as sa

    assert isinstance(engine, sa.Engine)
    # An update that changes nothing still needs write permission; it is rolled back.
    with engine.connect() as connection:
        with connection.begin() as transaction:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
            transaction.rollback()


def _database_problem(shown: str, parsed: object, exc: SQLAlchemyError) -> str:
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    detail = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    text = str(original).lower()
    host = getattr(parsed, "host", None) or "localhost"
    port = getattr(parsed, "port", None)
    name = getattr(parsed, "database", None)
    where = f"{host}:{port}" if port else host
    if "connection refused" in text or "could not connect" in text or "timeout" in text \
            or "name or service not known" in text or "could not translate host name" in text:
        return f"cannot reach the database server at {where} ({detail}): start it, or fix --database-url"
    if "does not exist" in text and "database" in text:
        return f"the database {name!r} does not exist on {where}: create it (createdb {name}) or fix --database-url"
    if "password authentication failed" in text or "role" in text and "does not exist" in text:
        return f"the database server at {where} refused the login ({detail}): fix the user or password in " \
               "--database-url"
    if "readonly" in text or "read-only" in text or "permission denied" in text or "unable to open" in text:
        return f"cannot write the database {shown} ({detail}): give this user write permission or choose " \
               "another --database-url"
    return f"cannot use the database {shown}: {detail}"


def check_port(host: str, port: int) -> None:
    """Fail now, before anything is created, when the port cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise NotReady(f"cannot listen on host {host!r} ({exc.strerror}): use an address of this machine, "
                       "e.g. --host 127.0.0.1 or --host 0.0.0.0") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # uvicorn sets SO_REUSEADDR too: a port in TIME_WAIT is free for it, and for this check.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise NotReady(f"port {port} on {host} is already in use: stop what listens there or choose "
                               "another --port") from None
            if exc.errno == errno.EACCES:
                raise NotReady(f"no permission to listen on port {port}: use a port above 1023, or put a "
                               "proxy in front (see docs/operations.md)") from None
            raise NotReady(f"cannot listen on {host}:{port} ({exc.strerror}): use an address of this machine "
                           "with --host") from None


def public_url(settings: Settings, explicit: bool) -> tuple[str, str | None]:
    """The public URL (``PUBLIC_URL`` when set, else ``http://<host>:<port>``) and a warning when
    browsers could not reach it."""
    if explicit:
        url = check_url(settings.public_url, "the public URL (PUBLIC_URL)")
    else:
        host = settings.host
        url = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}"
    host = urlsplit(url).hostname or ""
    if _unreachable(host):
        return url, (f"the public URL {url} is not an address a browser can reach, yet every session URL and "
                     f"the token issuer are built on it: set HEADLESS_REDIRECTS_PUBLIC_URL (or --public-url) to "
                     f"the address clients use, e.g. http://{socket.gethostname()}:{settings.port}")
    return url, None


def _unreachable(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host in _UNREACHABLE_HOSTS


def check_url(value: str, what: str) -> str:
    """An absolute http(s) URL with a host and no query or fragment, without its trailing slash."""
    parts = urlsplit(value.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{what} {value!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} {value!r} is not an absolute http(s) URL, e.g. https://login.example.com")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{what} {value!r} may not carry a query, a fragment or credentials")
    return value.strip().rstrip("/")
