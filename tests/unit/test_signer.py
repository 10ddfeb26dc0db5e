"""Access tokens signed on the signer thread (``service.signer``): the same tokens as inline
signing, many at once from one loop, a failure for its own request only, and the thread stops."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from headless_redirects.service.keys import KeyRing
from headless_redirects.service.signer import Signer
from tests.unit.test_signing_key_reload import CountingStore


def _claims(sub: str) -> dict[str, object]:
    now = time.time()
    return {"iss": "http://issuer", "sub": sub, "iat": round(now, 3), "exp": int(now) + 60}


def _ring() -> KeyRing:
    ring = KeyRing(CountingStore(), issuer="http://issuer")  # type: ignore[arg-type]
    ring.rotate()
    return ring


def test_tokens_signed_on_the_thread_verify_like_inline_ones() -> None:
    ring = _ring()
    signer = Signer(ring)

    async def main() -> list[str]:
        return await asyncio.gather(*(signer.sign(_claims(f"s{i}")) for i in range(200)))

    loop_thread = threading.get_ident()
    tokens = asyncio.run(main())
    assert signer._thread is not None and signer._thread.ident != loop_thread
    assert [ring.verify(t)["sub"] for t in tokens] == [f"s{i}" for i in range(200)]
    header = tokens[0].split(".")[0]
    assert header == ring.sign(_claims("inline")).split(".")[0]  # the same key id and header
    signer.stop()
    assert signer._thread is None


def test_a_failed_signature_fails_its_own_request_only() -> None:
    ring = _ring()
    signer = Signer(ring)
    good = ring.signature
    bad = _claims("bad")
    bad_input = ring.to_sign(bad)[1]

    def failing(key: object, signing_input: bytes) -> bytes:
        if signing_input == bad_input:
            raise RuntimeError("no signing key")
        return good(key, signing_input)  # type: ignore[arg-type]

    ring.signature = failing  # type: ignore[method-assign]

    async def main() -> list[object]:
        return await asyncio.gather(signer.sign(_claims("a")), signer.sign(bad), signer.sign(_claims("b")),
                                    return_exceptions=True)

    a, failed, b = asyncio.run(main())
    assert isinstance(failed, RuntimeError)
    assert ring.verify(a)["sub"] == "a" and ring.verify(b)["sub"] == "b"  # type: ignore[arg-type]
    signer.stop()


def test_signing_goes_on_across_event_loops() -> None:
    ring = _ring()
    signer = Signer(ring)
    for i in range(3):  # a new loop each time, as tests and restarts make them
        assert ring.verify(asyncio.run(signer.sign(_claims(f"x{i}"))))["sub"] == f"x{i}"
    signer.stop()


def test_a_cancelled_request_leaves_the_others_answered() -> None:
    ring = _ring()
    signer = Signer(ring)

    async def main() -> str:
        doomed = asyncio.ensure_future(signer.sign(_claims("cancelled")))
        await asyncio.sleep(0)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return await signer.sign(_claims("after"))

    assert ring.verify(asyncio.run(main()))["sub"] == "after"
    signer.stop()
