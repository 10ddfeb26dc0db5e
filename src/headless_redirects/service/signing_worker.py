"""The signing process (``service.signer``): ES256 signatures for the server's event loop, in a
process of its own, so that neither the signature nor a hand-over of the GIL costs the loop.

    python -m headless_redirects.service.signing_worker

It reads frames from standard input and answers on standard output, in order, one answer a
``sign`` frame. A frame is a kind byte, a 4-byte big-endian length and that many bytes:

- ``K``: a key: 2 bytes of key number, then the private key in PKCS #8 DER;
- ``S``: a signature asked for: 2 bytes of key number, then the JWS signing input.

An answer is ``0`` with the signature as JWS writes it (``jws_signature``), or ``1`` with the
error's text. Every answer to what one read brought in is written at once. It exits at the end
of its input (the server closed it).
"""

from __future__ import annotations

import base64
import os
import sys
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = ["HEADER", "frame", "frames", "jws_signature"]

HEADER = 5  # kind byte + 4-byte length


def frame(kind: bytes, payload: bytes) -> bytes:
    return kind + len(payload).to_bytes(4, "big") + payload


def frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """The whole frames at the start of ``buffer`` (removed from it) as ``(kind, payload)``."""
    found = []
    position = 0
    while len(buffer) - position >= HEADER:
        size = int.from_bytes(buffer[position + 1:position + HEADER], "big")
        end = position + HEADER + size
        if end > len(buffer):
            break
        found.append((buffer[position], bytes(buffer[position + HEADER:end])))
        position = end
    del buffer[:position]
    return found


def jws_signature(der: bytes) -> bytes:
    """The JWS signature segment of a DER ECDSA P-256 signature: base64url of r || s, 32 bytes
    each, without padding (RFC 7518 §3.4, RFC 7515 §2). Made here, in the worker, so that the
    event loop only joins it to the signing input."""
    r, s = decode_dss_signature(der)
    return base64.urlsafe_b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).rstrip(b"=")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main() -> int:
    keys: dict[bytes, Any] = {}
    ecdsa = ec.ECDSA(hashes.SHA256())
    pending = bytearray()
    while chunk := os.read(0, 1 << 16):
        pending += chunk
        answers = []
        for kind, payload in frames(pending):
            if kind == ord("K"):
                keys[payload[:2]] = serialization.load_der_private_key(payload[2:], None)
                continue
            try:
                answers.append(frame(b"0", jws_signature(keys[payload[:2]].sign(payload[2:], ecdsa))))
            except Exception as exc:  # noqa: BLE001 - its own request hears of it
                answers.append(frame(b"1", repr(exc).encode()))
        if answers:
            _write_all(1, b"".join(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
