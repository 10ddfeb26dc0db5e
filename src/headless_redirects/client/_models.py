"""Typed results of the client SDK."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["AccessToken", "OAuthData", "RedirectSession", "RefreshToken", "TokenRole", "Tokens", "URLDetails"]


class TokenRole(StrEnum):
    NONE = "none"
    VISITOR = "visitor"
    MEMBER = "member"


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: int  # Unix seconds

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at < (time.time() if now is None else now)


@dataclass(frozen=True)
class RefreshToken:
    value: str
    role: TokenRole


@dataclass(frozen=True)
class Tokens:
    access_token: AccessToken
    refresh_token: RefreshToken

    @classmethod
    def empty(cls) -> Tokens:
        return cls(AccessToken("", 0), RefreshToken("", TokenRole.NONE))


@dataclass(frozen=True)
class OAuthData:
    """What ``generate_oauth_data`` makes and ``get_member_tokens`` needs back: keep it (in a
    cookie or session) between sending the visitor away and their return."""

    state: str
    code_verifier: str
    code_challenge: str
    redirect_uri: str | None = None
    original_uri: str = ""


@dataclass(frozen=True)
class URLDetails:
    endpoint: str
    search_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RedirectSession:
    id: str
    full_url: str
    url_details: URLDetails
    short_url: str | None = None
    session_token: str | None = None

    @classmethod
    def from_wire(cls, body: dict[str, Any]) -> RedirectSession:
        session = body["redirectSession"]
        details = session.get("urlDetails") or {}
        return cls(
            id=session["id"],
            full_url=session["fullUrl"],
            url_details=URLDetails(details.get("endpoint", ""), dict(details.get("searchParams") or {})),
            short_url=session.get("shortUrl"),
            session_token=session.get("sessionToken"),
        )
