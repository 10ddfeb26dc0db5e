"""PKCE: RFC 7636 Appendix B, an S512 pair, and the refusals."""

from __future__ import annotations

import base64
import hashlib

import pytest

from headless_redirects.domain.pkce import PkceError, challenge, verify

# RFC 7636 Appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
S256_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc7636_appendix_b() -> None:
    assert challenge(VERIFIER, "S256") == S256_CHALLENGE
    verify(VERIFIER, S256_CHALLENGE, "S256")


def test_s512_pair() -> None:
    expected = base64.urlsafe_b64encode(hashlib.sha512(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    assert challenge(VERIFIER, "S512") == expected
    assert len(expected) == 86
    verify(VERIFIER, expected, "S512")
    with pytest.raises(PkceError):
        verify(VERIFIER, expected, "S256")


def test_wrong_verifier() -> None:
    with pytest.raises(PkceError, match="does not match"):
        verify("x" * 43, S256_CHALLENGE, "S256")


def test_a_code_without_challenge_is_refused_with_or_without_verifier() -> None:
    # PKCE is required (RFC 9700 §2.1.1): codes issued before it was are not redeemed
    for verifier in (VERIFIER, None):
        with pytest.raises(PkceError, match="no code_challenge"):
            verify(verifier, None, None)


def test_challenge_without_verifier() -> None:
    with pytest.raises(PkceError, match="required"):
        verify(None, S256_CHALLENGE, "S256")


def test_plain_is_refused() -> None:
    with pytest.raises(PkceError, match="not supported"):
        challenge(VERIFIER, "plain")
    with pytest.raises(PkceError):
        verify(VERIFIER, VERIFIER, "plain")


@pytest.mark.parametrize("verifier", ["short", "a" * 129, "a" * 42 + "!"])
def test_malformed_verifier(verifier: str) -> None:
    with pytest.raises(PkceError, match="43 to 128"):
        verify(verifier, S256_CHALLENGE, "S256")
