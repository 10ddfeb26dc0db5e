"""Access tokens signed by the signing process (``service.signer``, ``service.signing_worker``):
the same tokens as inline signing, many at once from one loop, a failure for its own request
only, a worker that dies leaves no request unanswered, other loops are served inline, and the
worker ends with the signer."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from headless_redirects.service.keys import KeyRing
from headless_redirects.service.signer import Signer
from tests.live import children_running
from tests.unit.test_signing_key_reload import CountingStore


def _claims(sub: str) -> dict[str, object]:
    now = time.time()
    return {"iss": "http://issuer", "sub": sub, "iat": round(now, 3), "exp": int(now) + 60}


def _ring() -> KeyRing:
    ring = KeyRing(CountingStore(), issuer="http://issuer")  # type: ignore[arg-type]
    ring.rotate()
    return ring


async def _worker_up(signer: Signer) -> None:
    """Sign once (which starts the worker), then wait until the worker answers this loop."""
    await signer.sign(_claims("start"))
    for _ in range(500):  # bounded: 10 s
        if signer.worker is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the signing worker did not start")


def test_tokens_signed_by_the_worker_verify_like_inline_ones() -> None:
    ring = _ring()
    signer = Signer(ring)

    async def main() -> list[str]:
        await _worker_up(signer)
        return await asyncio.gather(*(signer.sign(_claims(f"s{i}")) for i in range(200)))

    tokens = asyncio.run(main())
    assert signer.answered == 200  # every one of them by the worker, none inline
    assert [ring.verify(t)["sub"] for t in tokens] == [f"s{i}" for i in range(200)]
    header = tokens[0].split(".")[0]
    assert header == ring.sign(_claims("inline")).split(".")[0]  # the same key id and header
    worker = signer.worker
    assert worker is not None
    signer.stop()
    assert signer.worker is None and worker.poll() is not None  # the process has ended


def test_a_failed_signature_fails_its_own_request_only() -> None:
    ring = _ring()
    signer = Signer(ring)
    good_to_sign = ring.to_sign
    bad = _claims("bad")
    wrong_key = ed25519.Ed25519PrivateKey.generate()  # the worker cannot sign ES256 with it

    def to_sign(claims: dict[str, object]) -> tuple[object, bytes]:
        key, signing_input = good_to_sign(claims)  # type: ignore[arg-type]
        return (wrong_key if claims is bad else key), signing_input

    async def main() -> list[object]:
        await _worker_up(signer)
        ring.to_sign = to_sign  # type: ignore[assignment,method-assign]
        return await asyncio.gather(signer.sign(_claims("a")), signer.sign(bad), signer.sign(_claims("b")),
                                    return_exceptions=True)

    a, failed, b = asyncio.run(main())
    assert isinstance(failed, RuntimeError) and signer.answered == 3
    assert ring.verify(a)["sub"] == "a" and ring.verify(b)["sub"] == "b"  # type: ignore[arg-type]
    signer.stop()


def test_a_worker_that_dies_leaves_no_request_unanswered_and_another_takes_over() -> None:
    ring = _ring()
    signer = Signer(ring)

    async def main() -> list[str]:
        await _worker_up(signer)
        first = signer.worker
        assert first is not None
        first.kill()
        first.wait(5)
        # Asked of the dead worker: signed here instead, each for its own request.
        tokens = await asyncio.gather(*(signer.sign(_claims(f"d{i}")) for i in range(20)))
        assert signer.worker is None
        await asyncio.sleep(1.1)  # the restart's pause
        await _worker_up(signer)
        assert signer.worker is not first
        return [*tokens, await signer.sign(_claims("again"))]

    tokens = asyncio.run(main())
    assert [ring.verify(t)["sub"] for t in tokens] == [*(f"d{i}" for i in range(20)), "again"]
    signer.stop()


def test_signing_goes_on_across_event_loops() -> None:
    ring = _ring()
    signer = Signer(ring)
    for i in range(3):  # a new loop each time, as tests and restarts make them
        assert ring.verify(asyncio.run(signer.sign(_claims(f"x{i}"))))["sub"] == f"x{i}"
        time.sleep(0.3)  # a worker started for a loop that has closed since
    signer.stop()
    # None of the workers started for loops that closed before they could answer is left.
    assert signer._owned == [] and children_running(os.getpid(), b"signing_worker") == []


def test_a_cancelled_request_leaves_the_others_answered() -> None:
    ring = _ring()
    signer = Signer(ring)

    async def main() -> str:
        await _worker_up(signer)
        doomed = asyncio.ensure_future(signer.sign(_claims("cancelled")))
        await asyncio.sleep(0)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return await signer.sign(_claims("after"))

    assert ring.verify(asyncio.run(main()))["sub"] == "after"
    signer.stop()


def test_a_signature_begun_then_dropped_leaves_the_others_answered() -> None:
    """``begin`` asks at once (the token endpoint does so before its commit is awaited);
    ``finish`` gives the token ``sign`` gives; one dropped (its commit failed) is never awaited."""
    ring = _ring()
    signer = Signer(ring)

    async def main() -> list[str]:
        await _worker_up(signer)
        kept, dropped = signer.begin(_claims("kept")), signer.begin(_claims("dropped"))
        assert not isinstance(kept, str) and not isinstance(dropped, str)  # both with the worker
        signer.drop(dropped)
        assert dropped[1].cancelled()
        return [await signer.finish(kept), await signer.sign(_claims("after"))]

    assert [ring.verify(t)["sub"] for t in asyncio.run(main())] == ["kept", "after"]
    assert signer.answered >= 3  # the dropped one was answered too, and nothing broke
    signer.stop()
