"""Logs: one format for every line a process writes, ours and uvicorn's.

``json`` (the default) writes one JSON object a line: ``time``, ``level``, ``logger``, ``message``
and the record's extra fields (the request id, and on an access line the method, route template,
status, duration and client IP). ``text`` writes the same fields for a human:
``2026-01-02T03:04:05.678Z info  headless_redirects.access  GET /healthz 200 request_id=…``.

``configure`` sets up this process; ``logging_config`` is the same set-up as a ``dictConfig``
dictionary, handed to uvicorn so that its worker processes format their lines the same way.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import time
from typing import IO, Any, Literal

import msgspec

from .loops import LoopCache

__all__ = ["AccessEntry", "JsonFormatter", "LineStream", "TextFormatter", "access_lines", "configure",
           "logging_config"]

LogFormat = Literal["json", "text"]

# uvicorn adds a copy of some messages with terminal colours; it is no field of ours.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "color_message"}
_encode = msgspec.json.Encoder().encode
_LOGGERS = ("headless_redirects", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


def _time(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


# An access line's fields, as the middleware hands them over: (Unix time, method, route template,
# status, request id, duration in ms, client IP).
AccessEntry = tuple[float, str, str, int, str, float, "str | None"]
ACCESS_LOGGER = "headless_redirects.access"


class _AccessLine(msgspec.Struct):
    """An access line as ``JsonFormatter`` writes the record of ``log.info`` with these extras:
    the same fields in the same order."""

    time: str
    level: str
    logger: str
    message: str
    request_id: str
    method: str
    route: str
    status: int
    duration_ms: float
    client_ip: str | None


_encode_lines = msgspec.json.Encoder().encode_lines
_stamps: dict[int, str] = {}


def access_lines(entries: list[AccessEntry]) -> str:
    """The JSON lines of ``entries``, each ended by a newline: the bytes ``JsonFormatter`` writes
    for each, made in one call (measured: 1.1 µs a line in a batch, 2.3 µs one at a time)."""
    lines = []
    for now, method, route, status, request_id, duration_ms, client_ip in entries:
        second = int(now)
        stamp = _stamps.get(second)
        if stamp is None:
            _stamps.clear()
            stamp = _stamps[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        lines.append(_AccessLine(f"{stamp}.{int((now - second) * 1000):03d}Z", "info", ACCESS_LOGGER,
                                 f"{method} {route} {status}", request_id, method, route, status, duration_ms,
                                 client_ip))
    return _encode_lines(lines).decode()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extra(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _extra(record).items())
        line = f"{_time(record)} {record.levelname.lower():<7} {record.name}  {record.getMessage()}"
        if fields:
            line += f"  {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class LineStream(logging.StreamHandler):  # type: ignore[type-arg]
    """The stream handler of ``configure``. It also takes finished lines (``add_line``) and access
    lines' fields (``add_access``: the middleware writes those without a ``LogRecord``) and, on
    an event loop, writes the lines of one loop turn together: one write to the stream a turn
    instead of one a request (measured: a served short link's access line cost one ``write``
    system call each, docs/benchmarks.md), the access lines encoded in one call. Lines keep
    their order: any other record, a ``flush``, a change of stream and the process's exit
    (``logging.shutdown``) write the held lines first."""

    MAX_HELD = 256

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self._held: list[str | AccessEntry] = []
        self._loops = LoopCache()
        self._waiting: asyncio.AbstractEventLoop | None = None  # the loop a write is scheduled on

    def add_line(self, line: str) -> None:
        """Write ``line`` (terminated) now outside an event loop, else by the end of this turn."""
        self._add(line)

    def add_access(self, entry: AccessEntry) -> None:
        """Write the access line of ``entry`` (``access_lines``) as ``add_line`` writes a line.
        The handler's terminator must be a newline."""
        self._add(entry)

    def _add(self, item: str | AccessEntry) -> None:
        with self.lock:  # type: ignore[union-attr]  # ``createLock`` made it
            held = self._held
            held.append(item)
            if 1 < len(held) < self.MAX_HELD:
                waiting = self._waiting
                if waiting is not None and waiting.is_running():
                    return  # the write ``waiting`` runs by the end of its turn takes it too
            loop = self._loops.running()  # without Python 3.11's getpid per call (``loops``)
            if loop is None or len(held) >= self.MAX_HELD:
                self._write_held()
            else:  # the turn's first line, or lines whose loop ended before its write
                self._waiting = loop
                loop.call_soon(self.write_held)

    def holds_lines(self) -> bool:
        """Whether lines wait for the end of the turn (they go out together)."""
        return bool(self._held)

    def write_held(self) -> None:
        self.acquire()
        try:
            self._write_held()
        finally:
            self.release()

    def _write_held(self) -> None:
        held = self._held
        if not held:
            return
        self._held = []
        parts: list[str] = []
        entries: list[AccessEntry] = []
        for item in held:
            if type(item) is str:
                if entries:
                    parts.append(access_lines(entries))
                    entries = []
                parts.append(item)
            else:
                entries.append(item)  # type: ignore[arg-type]
        if entries:
            parts.append(access_lines(entries))
        text = "".join(parts)
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # noqa: BLE001, S110 - as logging does: a failed log line never fails the request
            pass

    def emit(self, record: logging.LogRecord) -> None:
        self._write_held()  # ``handle`` holds the lock
        super().emit(record)

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_held()
        finally:
            self.release()
        super().flush()


def logging_config(level: str, fmt: LogFormat = "json") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: every logger we and uvicorn write to, on one
    handler (standard error) with one formatter."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    logger = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"default": {"class": f"{__name__}.LineStream", "formatter": "default",
                                 "stream": "ext://sys.stderr"}},
        # SQLAlchemy and Alembic are quiet below warning whatever our level: their info lines
        # are per statement. uvicorn's access logger has no handler: our middleware writes the one
        # access line of a request (with its route template and id). uvicorn writes its own line
        # whenever that logger has a handler, whatever ``access_log`` it was started with, and this
        # set-up runs again in each worker (``app_from_env``): measured, that second line cost a
        # served short link ~15 µs of its ~90 µs (docs/benchmarks.md).
        "loggers": {name: {**logger, "level": "WARNING"} if name in ("sqlalchemy", "alembic")
                    else {**logger, "handlers": []} if name == "uvicorn.access" else logger
                    for name in _LOGGERS},
    }


def configure(level: str, fmt: LogFormat = "json") -> None:
    logging.config.dictConfig(logging_config(level, fmt))
