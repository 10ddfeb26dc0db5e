"""PKCE (RFC 7636) with the S256 method and its SHA-512 sibling S512. ``plain`` is refused.

RFC 7636 §4.6: the server computes the challenge from the ``code_verifier`` with the method the
client named in the authorization request and compares it with the ``code_challenge`` it kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = ["METHODS", "PkceError", "challenge", "verify"]

METHODS = ("S256", "S512")
# RFC 7636 §4.1: code-verifier = 43*128unreserved
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class PkceError(ValueError):
    """The verifier is missing, malformed, or does not match the challenge."""


def challenge(verifier: str, method: str) -> str:
    """``BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`` (RFC 7636 §4.2), or SHA-512 for S512."""
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
    elif method == "S512":
        digest = hashlib.sha512(verifier.encode("ascii")).digest()
    else:
        raise PkceError(f"code_challenge_method {method!r} is not supported (S256, S512)")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(verifier: str | None, expected_challenge: str | None, method: str | None) -> None:
    """Raise :class:`PkceError` unless ``verifier`` answers the stored challenge.

    PKCE is required for the code flow (RFC 9700 §2.1.1): a code whose authorization request had
    no challenge (issued before PKCE was required) is refused, with or without a verifier."""
    if expected_challenge is None:
        raise PkceError("the authorization request had no code_challenge; PKCE is required (RFC 9700 §2.1.1)")
    if not verifier:
        raise PkceError("code_verifier is required (RFC 7636 §4.5)")
    if not _VERIFIER.match(verifier):
        raise PkceError("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)")
    if not hmac.compare_digest(challenge(verifier, method or ""), expected_challenge):
        raise PkceError("code_verifier does not match the code_challenge")
