"""Access tokens signed in a process of their own (``service.signing_worker``), so that the
event loop goes on serving while a signature is computed.

An ES256 signature is the largest single cost of a token request (≈ 30 µs of CPU here, most of it
OpenSSL's scalar multiplication). Signed on the event loop's thread, that time is lost to every
other request. A thread of our own did no better served: ``cryptography`` lets go of the GIL
while OpenSSL signs, but the thread took it back around every signature, and each hand-over left
the loop waiting (a served ``anonymous`` run: the loop's thread busy 0.81 of its core with the
machine 0.65 core idle; 7,280 req/s with the thread, 6,750 signing inline, 10,000 with no
signature at all). The worker process shares no GIL: the loop writes each signing input to its
pipe as it is asked for (the worker starts on it while the loop goes on, signs whatever one read
brings in and answers it in one write), and reads the signatures from the loop's own reader: no
thread, no wake-up from elsewhere. Measured against the thread (``python bench/ab.py --endpoint
anonymous --runs 8``): 1.42 × the served ``anonymous`` tokens.

The token endpoint asks for the signature (``begin``) as soon as its claims are made, before it
waits for the loop turn's commit of what it stored (``Database.run_then``), and is answered once
both are done: the worker signs while the turn goes on and commits, so that a token request
usually needs one wake-up of its task instead of two, one commit's wait then one signature's
(measured: ``python bench/ab.py --endpoint anonymous --runs 8``, 1.20 × and 1.11 × the served
``anonymous`` tokens in two runs).

The loop encodes the claims and joins the JWS; the worker signs and writes the signature as JWS
writes it (r || s in base64url: 4.8 µs a token less on the loop). The worker starts on the first
signature, from a thread (the loop does not wait for the fork and exec); until it is up,
and from any other event loop than the one it answers, signatures are made inline. A worker that
ends (killed, or failed) has its unanswered signatures made inline, and another is started at a
later signature. Nothing is stored by then (``TokenIssuer.prepare`` did that), and a signature
that fails (no active key) fails its own request only.
"""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import threading
import time
import weakref
from typing import Any

from cryptography.hazmat.primitives import serialization

from ..loops import LoopCache
from .keys import KeyRing
from .signing_worker import frame, frames, jws_signature

__all__ = ["Pending", "Signer"]

_signers: weakref.WeakSet[Signer] = weakref.WeakSet()
_RESTART_AFTER = 1.0  # seconds between two starts of the worker


def _forget_all() -> None:
    for signer in list(_signers):
        signer._after_fork()


os.register_at_fork(after_in_child=_forget_all)

_Waiting = tuple[asyncio.Future[bytes], Any, bytes]  # future, key, signing input
# A signature asked for (``Signer.begin``): the token when it was signed at once, else the signing
# input and the future of its signature.
Pending = str | tuple[bytes, "asyncio.Future[bytes]"]


class Signer:
    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self._loops = LoopCache()
        # Every worker started and not yet ended: ended with the signer at the latest (one
        # dropped without ``stop``, or at exit), attached or not.
        self._owned: list[subprocess.Popen[bytes]] = []
        weakref.finalize(self, _end_all, self._owned)
        self._forget()
        _signers.add(self)

    def _after_fork(self) -> None:
        """In a forked child: the parent's workers are not ours (their pipes are closed here only)."""
        for worker in self._owned:
            for pipe in (worker.stdin, worker.stdout):
                if pipe is not None:
                    pipe.close()
        self._owned.clear()
        self._forget()

    def _forget(self) -> None:
        """No worker, nothing in flight."""
        self.worker: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that reads the worker's answers
        self._starting: asyncio.AbstractEventLoop | None = None  # the loop a worker is being started for
        self._started_at = -_RESTART_AFTER
        self._waiting: collections.deque[_Waiting] = collections.deque()
        self._outbox = bytearray()
        self._flushing = False
        self._answers = bytearray()
        self._key_numbers: dict[Any, bytes] = {}
        self.answered = 0  # signatures the worker made (for tests)

    async def sign(self, claims: dict[str, Any]) -> str:
        """The access token of ``claims``, signed by the worker process (or inline, see above)."""
        return await self.finish(self.begin(claims))

    def begin(self, claims: dict[str, Any]) -> Pending:
        """Ask for the signature of ``claims``: the worker starts on it while the loop goes on.
        The token is :meth:`finish`'s; one no longer wanted is :meth:`drop`'s."""
        loop = self._loops.running()
        assert loop is not None, "sign() runs on an event loop"
        key, signing_input = self.keys.to_sign(claims)
        if self.worker is None or self._loop is not loop:
            self._start(loop)
            return self.keys.signed(signing_input, self.keys.signature(key, signing_input))
        number = self._key_numbers.get(key)
        if number is None:
            number = self._key_numbers[key] = len(self._key_numbers).to_bytes(2, "big")
            der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            self._outbox += frame(b"K", number + der)
        future: asyncio.Future[bytes] = loop.create_future()
        self._waiting.append((future, key, signing_input))
        self._outbox += frame(b"S", number + signing_input)
        if not self._flushing:  # else the pipe is full, and its drain writes this too
            self._flush()
        return signing_input, future

    @staticmethod
    async def finish(pending: Pending) -> str:
        """The access token :meth:`begin` asked for."""
        if isinstance(pending, str):  # signed inline
            return pending
        signing_input, future = pending
        return (signing_input + b"." + await future).decode()

    @staticmethod
    def drop(pending: Pending) -> None:
        """Give up on a signature :meth:`begin` asked for (its answer, or failure, is dropped)."""
        if not isinstance(pending, str):
            pending[1].cancel()

    # --- the worker -----------------------------------------------------------------------

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start a worker for ``loop`` (from a thread), unless one runs for a loop still running."""
        if self._starting is not None:
            if not self._starting.is_closed():
                return
            self._starting = None  # its loop closed before the worker was attached: end that one
            for worker in [w for w in self._owned if w is not self.worker]:
                self._end(worker)
        if self._loop is not None and self._loop.is_running() and self._loop is not loop:
            return
        if self.worker is not None:  # its loop is gone: answer this one instead
            self._detach()
        if time.monotonic() - self._started_at < _RESTART_AFTER:
            return
        self._starting = loop
        self._started_at = time.monotonic()
        threading.Thread(target=self._spawn, args=(loop,), name="token-signer-start", daemon=True).start()

    def _spawn(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            worker = subprocess.Popen([sys.executable, "-m", "headless_redirects.service.signing_worker"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError:
            if self._starting is loop:
                self._starting = None
            return
        self._owned.append(worker)
        try:
            loop.call_soon_threadsafe(self._attach, loop, worker)
        except RuntimeError:  # that loop is closed
            if self._starting is loop:
                self._starting = None
            self._end(worker)

    def _attach(self, loop: asyncio.AbstractEventLoop, worker: subprocess.Popen[bytes]) -> None:
        assert worker.stdin is not None and worker.stdout is not None
        if self._starting is not loop or worker not in self._owned:  # given up on meanwhile
            self._end(worker)
            return
        self._starting = None
        os.set_blocking(worker.stdin.fileno(), False)
        os.set_blocking(worker.stdout.fileno(), False)
        self.worker, self._loop = worker, loop
        self._key_numbers.clear()
        loop.add_reader(worker.stdout.fileno(), self._read)

    def _flush(self) -> None:
        worker = self.worker
        if worker is None or not self._outbox:
            return
        assert worker.stdin is not None and self._loop is not None
        try:
            written = os.write(worker.stdin.fileno(), self._outbox)
        except BlockingIOError:
            written = 0
        except OSError:  # the worker ended
            self._detach()
            return
        del self._outbox[:written]
        if self._outbox:  # the pipe is full: the rest when it drains
            self._flushing = True
            self._loop.add_writer(worker.stdin.fileno(), self._drain)

    def _drain(self) -> None:
        worker, loop = self.worker, self._loop
        if worker is not None and loop is not None:
            assert worker.stdin is not None
            loop.remove_writer(worker.stdin.fileno())
        self._flushing = False
        self._flush()

    def _read(self) -> None:
        worker = self.worker
        assert worker is not None and worker.stdout is not None
        try:
            chunk = os.read(worker.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the worker ended
            self._detach()
            return
        self._answers += chunk
        for kind, payload in frames(self._answers):
            self.answered += 1
            future, _key, _input = self._waiting.popleft()
            if future.done():
                continue  # its request was cancelled
            if kind == ord("0"):
                future.set_result(payload)
            else:
                future.set_exception(RuntimeError(payload.decode(errors="replace")))

    def _detach(self) -> None:
        """Let the worker go; the signatures it still owed are made here, for the loops still
        open."""
        worker, loop, waiting = self.worker, self._loop, self._waiting
        self.worker = self._loop = None
        self._waiting = collections.deque()
        self._outbox.clear()
        self._answers.clear()
        self._flushing = False
        if worker is not None:
            assert worker.stdin is not None and worker.stdout is not None
            if loop is not None and not loop.is_closed():
                loop.remove_reader(worker.stdout.fileno())
                loop.remove_writer(worker.stdin.fileno())
            self._end(worker)
        for future, key, signing_input in waiting:
            try:
                outcome: tuple[bytes | None, BaseException | None] = (
                    jws_signature(self.keys.signature(key, signing_input)), None)
            except Exception as exc:  # noqa: BLE001 - its own request hears of it
                outcome = (None, exc)
            try:
                future.get_loop().call_soon_threadsafe(_settle, future, *outcome)
            except RuntimeError:
                pass  # that loop is closed: nobody is waiting any more

    def stop(self) -> None:
        """End the worker, and one still starting (at shutdown; a later signature would start
        another)."""
        self._detach()
        self._starting = None
        for worker in list(self._owned):
            self._end(worker)

    def _end(self, worker: subprocess.Popen[bytes]) -> None:
        if worker in self._owned:
            self._owned.remove(worker)
        _end(worker)


def _settle(future: asyncio.Future[bytes], signature: bytes | None, error: BaseException | None) -> None:
    if future.done():
        return  # its request was cancelled
    if error is None:
        future.set_result(signature)  # type: ignore[arg-type]
    else:
        future.set_exception(error)


def _end_all(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in list(workers):
        _end(worker)
    workers.clear()


def _end(worker: subprocess.Popen[bytes]) -> None:
    """Close the worker's input (it exits at its end), and wait for it."""
    for pipe in (worker.stdin, worker.stdout):
        if pipe is not None:
            pipe.close()
    try:
        worker.wait(5)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(5)
