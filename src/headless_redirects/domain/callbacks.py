"""Callback URL checks and the building of URLs we send visitors to.

A callback URL is where the hosted site sends the visitor back to; an open redirect here is
the worst bug this service can have, so the check is strict and says exactly what is wrong:

- at most 2048 characters, no whitespace, control characters or backslashes (browsers read
  ``\\`` as ``/``, which turns ``https://ok.com\\@evil.com`` into a different host);
- absolute, scheme ``https`` (``http`` only when the host is loopback);
- no userinfo (``https://ok.com@evil.com`` goes to evil.com);
- an ASCII host (IDN hosts must be sent in their ``xn--`` form, so look-alikes cannot match),
  with no percent-encoding, and a numeric port if any;
- a host that is one of the app's allowed redirect domains (an entry ``host`` allows any port
  of that host, an entry ``host:port`` only that port).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, quote, urlencode, urlsplit, urlunsplit

__all__ = [
    "MAX_URL_LENGTH",
    "UrlProblem",
    "add_query",
    "check_callback_url",
    "is_loopback_host",
    "normalize_domain",
    "parse_absolute_url",
]

MAX_URL_LENGTH = 2048

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@dataclass(frozen=True, slots=True)
class UrlProblem:
    """Why a URL was refused; ``rule`` is a ``violatedRule`` value."""

    rule: str
    description: str


def is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_domain(entry: str) -> str:
    """Lower-case an allowed-domain entry (``host`` or ``host:port``) for comparison."""
    return entry.strip().lower().rstrip(".")


def parse_absolute_url(url: str) -> SplitResult | UrlProblem:
    """Parse ``url`` as an absolute http(s) URL that is safe to redirect a browser to."""
    if len(url) > MAX_URL_LENGTH:
        return UrlProblem("MAX_LENGTH", f"must be at most {MAX_URL_LENGTH} characters")
    if _FORBIDDEN.search(url):
        return UrlProblem("FORMAT", "must not contain whitespace, control characters or '\\'")
    if not url.isascii():
        return UrlProblem("FORMAT", "must be ASCII; send IDN hosts in their xn-- form")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return UrlProblem("FORMAT", "is not a valid URL")
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.netloc:
        return UrlProblem("FORMAT", "must be an absolute https URL")
    if "@" in parts.netloc:
        return UrlProblem("FORMAT", "must not contain user information ('@')")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return UrlProblem("FORMAT", "must have a host")
    if "%" in parts.netloc:
        return UrlProblem("FORMAT", "must not percent-encode the host")
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return UrlProblem("FORMAT", "has an invalid IPv6 host")
    elif not _HOST.match(host):
        return UrlProblem("FORMAT", "has an invalid host")
    if port == 0:
        return UrlProblem("FORMAT", "has an invalid port")
    if scheme == "http" and not is_loopback_host(host):
        return UrlProblem("FORMAT", "must use https (http is allowed for loopback hosts only)")
    return parts


def check_callback_url(url: str, allowed_domains: Iterable[str]) -> UrlProblem | None:
    """``None`` when ``url`` may be redirected to, else why not."""
    return _check(url, tuple(allowed_domains))


# Client sites send the same few callback URLs again and again; the check is a pure function.
@lru_cache(maxsize=4096)
def _check(url: str, allowed_domains: tuple[str, ...]) -> UrlProblem | None:
    parsed = parse_absolute_url(url)
    if isinstance(parsed, UrlProblem):
        return parsed
    host = (parsed.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parsed.port
    for entry in allowed_domains:
        domain = normalize_domain(entry)
        if domain == host:
            return None
        if port is not None and domain == f"{host}:{port}":
            return None
    return UrlProblem("VALIDATION", f"host '{host}' is not an allowed redirect domain of the app")


def add_query(url: str, params: Mapping[str, str], *, fragment: bool = False) -> str:
    """Append ``params`` to ``url``'s own query string (or fragment), keeping what is there."""
    parts = urlsplit(url)
    encoded = urlencode(list(params.items()), quote_via=quote)
    if fragment:
        frag = f"{parts.fragment}&{encoded}" if parts.fragment else encoded
        return urlunsplit(parts._replace(fragment=frag))
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return urlunsplit(parts._replace(query=query))
