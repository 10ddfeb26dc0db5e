"""The served process's log plumbing (issue 12 item 4): uvicorn writes no access line of its own,
the access lines of one loop turn are written together without changing the order of the lines,
and request ids stay 32 random hex digits, unique."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from headless_redirects.logs import JsonFormatter, LineStream, configure
from headless_redirects.web import middleware
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


def test_lines_held_for_a_loop_that_ended_are_written_by_the_next_line() -> None:
    """A turn's later lines ride on the write its first line scheduled; when that loop ends
    before its write runs, the next line (from another loop, or outside one) writes them."""
    buffer = io.StringIO()
    handler = LineStream(buffer)
    loop = asyncio.new_event_loop()

    def stopped_turn() -> None:
        handler.add_line("a\n")  # schedules this turn's write
        handler.add_line("b\n")  # held with it
        loop.stop()

    loop.call_soon(stopped_turn)
    loop.run_forever()  # stopped with the write still scheduled
    loop.close()
    assert buffer.getvalue() == ""
    handler.add_line("c\n")  # no loop: written at once, after the held ones
    assert buffer.getvalue() == "a\nb\nc\n"

    async def next_loop() -> str:
        handler.add_line("d\n")
        handler.add_line("e\n")
        held = buffer.getvalue()
        await asyncio.sleep(0)
        return held

    assert asyncio.run(next_loop()) == "a\nb\nc\n"
    assert buffer.getvalue() == "a\nb\nc\nd\ne\n"


def test_request_ids_are_unique_random_hex() -> None:
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_access_lines_of_a_turn_are_the_formatters_lines_in_order(json_logs: io.StringIO) -> None:
    # ``json_logs``: logging as ``serve`` sets it up. Access lines are held as their fields and
    # encoded together at the end of the turn; each is the line ``log.info`` would have written,
    # in its place among the other lines (held ones and records). A proxy's request id may hold
    # quotes and backslashes.
    odd_id = 'a"b\\c'
    (stream,) = logging.getLogger("headless_redirects").handlers
    assert isinstance(stream, LineStream)
    requests = [("GET", "/r/{code}", 302, "r1", 0.25, "203.0.113.9"), ("POST", "/oauth2/token", 400, odd_id, 1.5, None)]

    async def turn() -> str:
        middleware.access_line(*requests[0])
        stream.add_line('{"request_id": "held"}\n')
        middleware.access_line(*requests[0])
        logging.getLogger("headless_redirects.web").warning("between")
        middleware.access_line(*requests[1])
        held = json_logs.getvalue()
        await asyncio.sleep(0)
        return held

    held = asyncio.run(turn())
    direct = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert [line.get("request_id") for line in direct] == ["r1", "held", "r1", None, odd_id]
    assert len(held.splitlines()) == 4  # the last line waited for the end of the turn
    for method, route, status, request_id, duration_ms, client_ip in requests:
        middleware.log.info("%s %s %s", method, route, status, extra={
            "request_id": request_id, "method": method, "route": route, "status": status,
            "duration_ms": duration_ms, "client_ip": client_ip})
    through_logging = [json.loads(line) for line in json_logs.getvalue().splitlines()[5:]]
    for line, expected in zip([direct[0], direct[4]], through_logging, strict=True):
        assert list(line) == list(expected)  # same fields, same order
        line.pop("time"), expected.pop("time")
        assert line == expected


def test_a_batchs_access_lines_go_to_one_handler_and_a_new_set_up_takes_the_next(json_logs: io.StringIO) -> None:
    """The access lines held for one write share the handler the first of them found; once
    they are written, the next line looks again, so a handler added since (here a test's, which
    makes the line an ordinary logging call) gets it."""
    (stream,) = logging.getLogger("headless_redirects").handlers
    assert isinstance(stream, LineStream)
    seen: list[logging.LogRecord] = []

    class Catching(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    catching = Catching()

    async def turns() -> str:
        middleware.access_line("GET", "/r/{code}", 302, "first", 0.2, None)
        middleware.access_line("GET", "/r/{code}", 302, "second", 0.2, None)
        await asyncio.sleep(0)  # the batch is written
        logging.getLogger("headless_redirects.access").addHandler(catching)
        middleware.access_line("GET", "/r/{code}", 302, "third", 0.2, None)
        await asyncio.sleep(0)
        return json_logs.getvalue()

    try:
        written = asyncio.run(turns())
    finally:
        logging.getLogger("headless_redirects.access").removeHandler(catching)
    assert [json.loads(line)["request_id"] for line in written.splitlines()] == ["first", "second", "third"]
    assert [r.request_id for r in seen] == ["third"]  # type: ignore[attr-defined]
