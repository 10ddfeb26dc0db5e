"""The served process's log plumbing (issue 12 item 4): uvicorn writes no access line of its own,
the access lines of one loop turn are written together without changing the order of the lines,
and request ids stay 32 random hex digits, unique."""

from __future__ import annotations

import asyncio
import io
import logging

from headless_redirects.logs import JsonFormatter, LineStream, configure
from headless_redirects.web.middleware import new_request_id


def test_uvicorn_writes_no_access_line_of_its_own(logging_restored: None) -> None:
    # uvicorn writes its access line whenever its access logger has a handler (``hasHandlers``),
    # whatever ``access_log`` it was started with; the middleware writes the one access line.
    configure("info")
    assert not logging.getLogger("uvicorn.access").hasHandlers()
    assert logging.getLogger("uvicorn.error").hasHandlers()
    assert type(logging.getLogger("headless_redirects").handlers[0]) is LineStream


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("headless_redirects.web", logging.WARNING, __file__, 1, message, None, None)


def test_a_loop_turns_lines_are_written_together_in_order() -> None:
    buffer = io.StringIO()
    handler = LineStream(buffer)
    handler.setFormatter(JsonFormatter())

    async def turn() -> list[str]:
        seen = []
        handler.add_line("a\n")
        handler.add_line("b\n")
        seen.append(buffer.getvalue())  # held until the end of the turn
        handler.handle(_record("c"))  # another line: the held ones go first
        handler.add_line("d\n")
        seen.append(buffer.getvalue())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        seen.append(buffer.getvalue())
        return seen

    held, after_record, after_turn = asyncio.run(turn())
    assert held == ""
    assert after_record.splitlines()[:2] == ["a", "b"] and '"message":"c"' in after_record.splitlines()[2]
    assert after_turn == after_record + "d\n"


def test_lines_outside_a_loop_and_at_flush_are_written_at_once() -> None:
    buffer = io.StringIO()
    handler = LineStream(buffer)
    handler.add_line("now\n")
    assert buffer.getvalue() == "now\n"

    async def held_then_flushed() -> str:
        handler.add_line("later\n")
        handler.flush()  # logging.shutdown at exit, or a change of stream
        return buffer.getvalue()

    assert asyncio.run(held_then_flushed()) == "now\nlater\n"


def test_request_ids_are_unique_random_hex() -> None:
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
