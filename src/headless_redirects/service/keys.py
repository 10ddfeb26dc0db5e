"""Access-token signing keys (ES256), kept in the database so every instance shares them.

Verification is cached per token string: a JWT cannot change, so once its signature checked
out only its expiry needs looking at again. Revocation is checked separately, on every use.

A key rotated on another instance reaches this one through ``changes`` (PostgreSQL) as it
commits. A token naming a key this process does not know may still be signed by a key made a
moment ago, so the keys are read again, but at most once per ``reload_interval``: forged
tokens with made-up key ids cannot make every request read the table.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from ..storage.changes import ALL, ChangeFeed
from ..storage.signing_keys import SigningKeyRepository, SigningKeyRow
from .signing_worker import jws_signature

__all__ = ["InvalidToken", "KeyRing"]

ALG = "ES256"
_encode = msgspec.json.Encoder().encode
_ECDSA = ec.ECDSA(hashes.SHA256())
_b64 = base64.urlsafe_b64encode


def _header_of(kid: str) -> bytes:
    """A token's encoded header and the dot after it, as PyJWT writes it (keys sorted)."""
    header = _encode({"alg": ALG, "kid": kid, "typ": "JWT"})
    return _b64(header).rstrip(b"=") + b"."


class InvalidToken(Exception):
    """The token is malformed, forged, signed by an unknown key or expired."""


class KeyRing:
    def __init__(self, repository: SigningKeyRepository, *, issuer: str, cache_size: int = 50_000,
                 reload_interval: float = 1.0, changes: ChangeFeed | None = None) -> None:
        self.repository = repository
        self.issuer = issuer
        self.reload_interval = reload_interval
        self._next_reload = 0.0
        self._lock = threading.Lock()
        # (kid, private key, encoded header): the header is the same for every token of a key.
        self._active: tuple[str, Any, bytes] | None = None
        self._public: dict[str, Any] = {}
        self._jwks: list[dict[str, Any]] = []
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._cache_size = cache_size
        if changes is not None:
            changes.subscribe(self._changed)

    def _changed(self, table: str) -> None:
        if table in ("signing_keys", ALL):
            self._install(self.repository.all())  # in the listener's thread, off the loop

    # --- key management --------------------------------------------------------------------

    def load(self) -> None:
        """Read the keys from the database, creating the first one if there is none."""
        rows = self.repository.all()
        if not any(r.retired_at is None for r in rows):
            self.rotate()
            return
        self._install(rows)

    def rotate(self) -> str:
        """Create a new signing key; older keys stop signing but keep verifying."""
        private = ec.generate_private_key(ec.SECP256R1())
        kid = uuid.uuid4().hex
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        jwk.update(kid=kid, alg=ALG, use="sig")
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        now = int(time.time())
        self.repository.insert_signing_key(SigningKeyRow(kid, ALG, pem, jwk, now, None))
        self.repository.retire_signing_keys(except_kid=kid, now=now)
        self._install(self.repository.all())
        return kid

    def _install(self, rows: list[SigningKeyRow]) -> None:
        active = [r for r in rows if r.retired_at is None]
        newest = max(active, key=lambda r: r.created_at) if active else None
        public = {r.kid: ECAlgorithm.from_jwk(r.public_jwk) for r in rows}
        with self._lock:
            self._public = public
            self._jwks = [r.public_jwk for r in rows]
            if newest is not None:
                key = serialization.load_pem_private_key(newest.private_pem.encode(), None)
                self._active = (newest.kid, key, _header_of(newest.kid))

    def jwks(self) -> dict[str, Any]:
        """The JWK Set (RFC 7517 §5) of every key that still verifies. It stays a dict, not a
        result Struct: it *is* the published document, its members the public JWKs stored as
        RFC 7517 writes them, so ``web`` serves it as it is."""
        return {"keys": list(self._jwks)}

    # --- tokens ----------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any]) -> str:
        key, signing_input = self.to_sign(claims)
        return self.signed(signing_input, key.sign(signing_input, _ECDSA))

    # The JWS of RFC 7515 §7.1 written here rather than by PyJWT (measured: 26-34 µs a token
    # against 42-44 µs, of which the signature itself is 25 µs): the header is encoded once per
    # key, the claims once by msgspec, and the DER signature becomes JWS's r || s (RFC 7518
    # §3.4). Verification stays PyJWT's. In three steps, so that the signature alone can be made
    # in another process (``service.signer``).

    def to_sign(self, claims: dict[str, Any]) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
        """The active key and the JWS signing input of ``claims``."""
        if self._active is None:
            self.load()
        assert self._active is not None
        _kid, key, header = self._active
        return key, header + _b64(_encode(claims)).rstrip(b"=")

    @staticmethod
    def signature(key: ec.EllipticCurvePrivateKey, signing_input: bytes) -> bytes:
        """The DER ECDSA signature of ``signing_input`` (the step that may run anywhere)."""
        return key.sign(signing_input, _ECDSA)

    @staticmethod
    def signed(signing_input: bytes, der: bytes) -> str:
        """The compact JWS of ``signing_input`` and its DER signature."""
        return (signing_input + b"." + jws_signature(der)).decode()

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_signature(token)
            with self._lock:
                self._verified[token] = claims
                if len(self._verified) > self._cache_size:
                    self._verified.popitem(last=False)
        if claims["exp"] <= now:
            raise InvalidToken("the token has expired")
        return claims

    def _verify_signature(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("the token is malformed") from exc
        kid = header.get("kid")
        if header.get("alg") != ALG or not isinstance(kid, str):
            raise InvalidToken("the token is not signed by this service")
        key = self._public.get(kid)
        if key is None:
            now = time.monotonic()
            if now >= self._next_reload:  # another instance may have rotated a moment ago
                self._next_reload = now + self.reload_interval
                self._install(self.repository.all())
                key = self._public.get(kid)
            if key is None:
                raise InvalidToken("the token is signed by an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALG],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken("the token signature or claims are invalid") from exc
        return claims
