"""Browser origins an app may call the API from (SPEC §10).

An app's allowed origins are its allowed redirect domains read as origins — ``https://host``
on any port when the entry has none, that port when it has one, ``http://`` only for loopback
hosts (exactly the callback rule of ``domain.callbacks``) — plus explicit extra origins.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from .callbacks import UrlProblem, check_callback_url, parse_absolute_url

__all__ = ["canonical_origin", "normalize_origin", "origin_allowed"]

_DEFAULT_PORTS = {"https": 443, "http": 80}


def canonical_origin(value: str) -> str | None:
    """``scheme://host[:port]`` lower-cased with the default port dropped, or ``None`` when
    ``value`` is not a serialized http(s) origin (a path, userinfo, ``null``...)."""
    parsed = parse_absolute_url(value + "/") if "/" not in value.partition("://")[2] else None
    if parsed is None or isinstance(parsed, UrlProblem) or parsed.path != "/" or parsed.query or parsed.fragment:
        return None
    scheme = parsed.scheme.lower()
    host = (parsed.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parsed.port
    return f"{scheme}://{host}" if port is None or port == _DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


def normalize_origin(value: str) -> str:
    """An explicit allowed origin as stored; ``ValueError`` saying why when it is not one."""
    origin = canonical_origin(value.strip().rstrip("/"))
    if origin is None:
        parts = urlsplit(value.strip())
        why = "has a path" if parts.path not in ("", "/") else "is not an https origin (http only for loopback hosts)"
        raise ValueError(f"allowed origin {value!r} {why}; write it as https://host[:port]")
    return origin


def origin_allowed(origin: str, allowed_domains: Iterable[str], allowed_origins: Iterable[str]) -> bool:
    canonical = canonical_origin(origin)
    if canonical is None:
        return False
    if canonical in allowed_origins:
        return True
    return check_callback_url(canonical + "/", tuple(allowed_domains)) is None
