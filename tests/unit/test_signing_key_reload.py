"""Issue 9: a forged token naming an unknown key id must not make every request read the
signing keys again (an amplifier); the keys are read at most once per interval."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from headless_redirects.service.keys import InvalidToken, KeyRing
from headless_redirects.storage.changes import ChangeFeed
from headless_redirects.storage.signing_keys import SigningKeyRow


class CountingStore:
    """The signing keys repository, in memory, counting reads."""

    def __init__(self) -> None:
        self.rows: list[SigningKeyRow] = []
        self.reads = 0

    def all(self) -> list[SigningKeyRow]:
        self.reads += 1
        return list(self.rows)

    def insert_signing_key(self, key: SigningKeyRow) -> None:
        self.rows.append(key)

    def retire_signing_keys(self, except_kid: str, now: int) -> None:
        self.rows = [r if r.kid == except_kid or r.retired_at is not None else
                     SigningKeyRow(r.kid, r.alg, r.private_pem, r.public_jwk, r.created_at, now) for r in self.rows]


def _forged(kid: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    return jwt.encode({"iss": "http://issuer", "sub": "x", "iat": now, "exp": now + 60}, key, algorithm="ES256",
                      headers={"kid": kid})


def test_unknown_key_ids_read_the_keys_at_most_once_per_interval() -> None:
    store = CountingStore()
    ring = KeyRing(store, issuer="http://issuer", reload_interval=60)  # type: ignore[arg-type]
    ring.load()
    before = store.reads
    for _ in range(50):
        with pytest.raises(InvalidToken):
            ring.verify(_forged(uuid.uuid4().hex))
    assert store.reads - before <= 1


def test_a_key_rotated_elsewhere_verifies_after_the_interval_or_when_announced() -> None:
    store = CountingStore()
    feed = ChangeFeed()
    ring = KeyRing(store, issuer="http://issuer", reload_interval=0.2, changes=feed)  # type: ignore[arg-type]
    ring.load()
    other = KeyRing(store, issuer="http://issuer")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        ring.verify(_forged("nobody"))  # spends this interval's reload
    other.rotate()  # another instance rotates: the next token names a key this ring never read
    token = other.sign({"iss": "http://issuer", "sub": "s", "iat": time.time(), "exp": int(time.time()) + 60})
    with pytest.raises(InvalidToken):
        ring.verify(token)  # within the interval: not read again
    time.sleep(0.25)
    assert ring.verify(token)["sub"] == "s"
    # Announced by the change feed: read at once, no token needed.
    other.rotate()
    feed.publish("signing_keys")
    assert {k["kid"] for k in ring.jwks()["keys"]} == {r.kid for r in store.rows}


