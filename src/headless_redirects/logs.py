"""Logs: one format for every line a process writes, ours and uvicorn's.

``json`` (the default) writes one JSON object a line: ``time``, ``level``, ``logger``, ``message``
and the record's extra fields (the request id, and on an access line the method, route template,
status, duration and client IP). ``text`` writes the same fields for a human:
``2026-01-02T03:04:05.678Z info  headless_redirects.access  GET /healthz 200 request_id=…``.

``configure`` sets up this process; ``logging_config`` is the same set-up as a ``dictConfig``
dictionary, handed to uvicorn so that its worker processes format their lines the same way.
"""

from __future__ import annotations

import logging
import logging.config
import time
from typing import Any, Literal

import msgspec

__all__ = ["JsonFormatter", "TextFormatter", "configure", "logging_config"]

LogFormat = Literal["json", "text"]

# uvicorn adds a copy of some messages with terminal colours; it is no field of ours.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "color_message"}
_encode = msgspec.json.Encoder().encode
_LOGGERS = ("headless_redirects", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


def _time(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


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


def logging_config(level: str, fmt: LogFormat = "json") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: every logger we and uvicorn write to, on one
    handler (standard error) with one formatter."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    logger = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                                 "stream": "ext://sys.stderr"}},
        # SQLAlchemy and Alembic are quiet below warning whatever our level: their info lines
        # are per statement.
        "loggers": {name: {**logger, "level": "WARNING"} if name in ("sqlalchemy", "alembic") else logger
                    for name in _LOGGERS},
    }


def configure(level: str, fmt: LogFormat = "json") -> None:
    logging.config.dictConfig(logging_config(level, fmt))
