"""Access tokens signed on a thread of their own, so that the event loop goes on serving while a
signature is computed.

An ES256 signature is the largest single cost of a token request (≈ 35-45 µs of CPU here, most
of it OpenSSL's scalar multiplication), and ``cryptography`` lets go of the GIL while OpenSSL
signs (measured: two threads signing at once take 31 µs a signature of wall time against 52 µs
for one). Signed on the event loop's thread, that time is lost to every other request; here the
loop encodes the claims, hands the signing input over and awaits the signature, and the signer
thread signs everything handed over meanwhile and gives the signatures back with one wake-up of
the loop per batch. The thread runs no Python of its own per token beyond the call (the
encoding before and the JWS after stay on the loop), so it seldom needs the GIL the loop holds.

Nothing is stored by then (``TokenIssuer.prepare`` did that), and a signature that fails (no
active key) fails its own request only.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
import weakref
from typing import Any

from ..loops import LoopCache
from .keys import KeyRing

__all__ = ["Signer"]

_signers: weakref.WeakSet[Signer] = weakref.WeakSet()


def _forget_all() -> None:
    for signer in list(_signers):
        signer._forget()


os.register_at_fork(after_in_child=_forget_all)


class Signer:
    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self._pending: collections.deque[tuple[Any, bytes, asyncio.Future[bytes]]] = collections.deque()
        self._wake = threading.Event()
        self._idle = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._loops = LoopCache()
        _signers.add(self)

    async def sign(self, claims: dict[str, Any]) -> str:
        """The access token of ``claims``, signed on the signer thread."""
        if self._thread is None:
            self._start()
        loop = self._loops.running()
        assert loop is not None, "sign() runs on an event loop"
        key, signing_input = self.keys.to_sign(claims)
        future: asyncio.Future[bytes] = loop.create_future()
        self._pending.append((key, signing_input, future))
        if self._idle:
            self._wake.set()
        return self.keys.signed(signing_input, await future)

    def _forget(self) -> None:
        """In a forked child: the parent's thread is not there; the next ``sign`` starts one."""
        self._thread = None
        self._loops = LoopCache()

    def _start(self) -> None:
        self._pending.clear()
        self._wake = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="token-signer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending, wake = self._pending, self._wake
        while not self._stopped:
            # Idle first, then look: a request that finds us busy after appending is seen below.
            self._idle = True
            if not pending:
                wake.wait()
                wake.clear()
            self._idle = False
            batch = [pending.popleft() for _ in range(len(pending))]
            if not batch:
                continue
            done: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            signature = self.keys.signature
            for key, signing_input, future in batch:
                try:
                    outcome: _Outcome = (future, signature(key, signing_input), None)
                except BaseException as exc:  # noqa: BLE001 - its own request hears of it
                    outcome = (future, None, exc)
                done.setdefault(future.get_loop(), []).append(outcome)
            for loop, outcomes in done.items():
                try:
                    loop.call_soon_threadsafe(_deliver, outcomes)
                except RuntimeError:  # that loop is closed: nobody is waiting any more
                    pass

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
        self._thread = None


_Outcome = tuple[asyncio.Future[bytes], bytes | None, BaseException | None]


def _deliver(outcomes: list[_Outcome]) -> None:
    for future, signature, error in outcomes:
        if future.done():
            continue  # its request was cancelled
        if error is None:
            future.set_result(signature)  # type: ignore[arg-type]
        else:
            future.set_exception(error)
