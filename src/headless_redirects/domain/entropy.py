"""Random bytes for ids and secrets, drawn from the operating system's CSPRNG a page at a time.

Every request of the hot path needs a few random values (a request id, a GUID, a 256-bit
secret); drawing each with its own ``os.urandom`` cost a ``getrandom`` system call apiece
(measured with ``strace -c`` on a served token request: three per request). Here one call
fills 4 KiB and the values are cut from it, each byte used once. The bytes are the kernel's
CSPRNG output either way; a forked child throws away what its parent had drawn, so two
processes never hand out the same bytes.

Not for keys that must never sit in memory unused: signing keys come from ``cryptography``.
"""

from __future__ import annotations

import os
import threading

__all__ = ["random_bytes"]

_PAGE = 4096
_lock = threading.Lock()
_buffer = b""
_offset = 0


def random_bytes(n: int) -> bytes:
    """``n`` fresh random bytes (``n`` at most 4096)."""
    global _buffer, _offset
    with _lock:
        end = _offset + n
        if end > len(_buffer):
            _buffer, _offset, end = os.urandom(max(_PAGE, n)), 0, n
        chunk = _buffer[_offset:end]
        _offset = end
        return chunk


def _forget() -> None:
    global _buffer, _offset, _lock
    _buffer, _offset, _lock = b"", 0, threading.Lock()


os.register_at_fork(after_in_child=_forget)
