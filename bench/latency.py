"""p99 at a fixed offered rate (SPEC §7): half of a row's measured maximum, offered at a constant
rate whatever the answers' pace, so that the figure is service time plus the queueing that rate
causes, not the queue of a closed loop at saturation.

``open_loop`` offers every row: ``bench/openloop.mjs`` on Node, request i due at start + i/rate and
timed from then, one fresh body each where inputs are single use (authorization codes). ``h2load
--h1 --rps`` (``h2load`` below), which the bench used for the rows whose requests are all alike,
times a request from when it was sent: a request due while its connection is still busy waits
unseen (coordinated omission), so its p99 was optimistic on the write rows. A Python asyncio
generator (``open_loop_python``) measured itself more than the server, and so did Node's http
client at a few thousand requests a second. ``python bench/latency.py [--bare]`` runs the three
generators on one row at one rate, against ``serve`` or the bare app.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.steal import WINDOW, Steal, StealMeter, cpu_seconds, split_p99  # noqa: E402

CLIENTS = 16  # connections; h2load's --rps is per connection


@dataclass
class Latency:
    rate: float  # offered, req/s
    achieved: float  # answered, req/s
    p99_ms: float
    errors: int  # non-2xx/3xx answers
    # Measured by ``open_loop`` (bench/steal.py): the hypervisor's steal over the run and in its
    # worst half second, and the p99 of the requests due where nothing was stolen.
    steal: Steal | None = None
    p99_unstolen_ms: float = math.nan
    left_out: int = 0  # answered requests due in stolen windows
    answered: int = 0
    # The server's own CPU seconds (user and system, its threads') over the run, and the seconds
    # offered: how near the offered rate is to what it can answer at that pace (bench/queueing.py).
    server_cpu_s: float = math.nan
    seconds: float = math.nan

    @property
    def server_cores(self) -> float:
        return self.server_cpu_s / self.seconds


def _p99(values: list[float]) -> float:
    if not values:
        return math.inf
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(0.99 * len(values)) - 1)]


def h2load(binary: str, url: str, rate: float, duration: int, *, method: str = "GET", body: str = "",
           headers: dict[str, str] | None = None) -> Latency:
    per_client = max(1, round(rate / CLIENTS))
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.tsv"
        cmd = [binary, "--h1", "-t1", f"-c{CLIENTS}", "-m1", f"--rps={per_client}", f"-D{duration}",
               "--warm-up-time=1", f"--log-file={log}"]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        if method == "POST":
            data = Path(tmp) / "body"
            data.write_text(body)
            cmd += ["-d", str(data)]
        subprocess.run([*cmd, url], capture_output=True, text=True, check=True)
        rows = [line.split("\t") for line in log.read_text().splitlines() if line.strip()]
    latencies = [int(r[2]) / 1000 for r in rows]
    errors = sum(1 for r in rows if not 200 <= int(r[1]) < 400)
    return Latency(per_client * CLIENTS, len(rows) / duration, _p99(latencies), errors)


def open_loop(port: int, path: str, rate: float, duration: int, *, method: str = "GET", body: str | None = None,
              bodies: list[str] | None = None, headers: dict[str, str] | None = None,
              node: str = "node", pid: int | None = None) -> Latency:
    """Offer ``rate`` req/s for ``duration`` s over up to ``CLIENTS`` keep-alive connections (more
    requests in flight than that wait for a free connection, and the wait counts), from Node
    (``bench/openloop.mjs``): ``bodies`` one per request in turn, else ``body`` for each, else none.
    With ``pid`` (the server's process), its CPU over the run is read too (``server_cpu_s``)."""
    before = sum(cpu_seconds(pid)) if pid is not None else math.nan
    with StealMeter() as meter:
        result = open_loop_trace(port, path, rate, duration, method=method, body=body, bodies=bodies,
                                 headers=headers, node=node)
    server_cpu = sum(cpu_seconds(pid)) - before if pid is not None else math.nan
    p99 = math.inf if result["p99_ms"] is None else float(result["p99_ms"])
    steal = meter.result
    unstolen, left_out = split_p99([d / 1000 for d in result["due"]], result["latency"], steal)
    return Latency(rate, float(result["achieved"]), p99, int(result["errors"]), steal, unstolen, left_out,
                   len(result["latency"]), server_cpu, duration)


def open_loop_trace(port: int, path: str, rate: float, duration: int, *, method: str = "GET",
                    body: str | None = None, bodies: list[str] | None = None, headers: dict[str, str] | None = None,
                    node: str = "node") -> dict[str, Any]:
    """:func:`open_loop`'s run itself: ``bench/openloop.mjs``'s report, with each answered request's
    due time (``due``, ms since the epoch) and latency (``latency``, ms), in the order answered."""
    config: dict[str, object] = {"port": port, "method": method, "path": path, "headers": headers or {},
                                 "rate": rate, "seconds": duration, "connections": CLIENTS, "trace": True}
    if bodies is not None:
        config["bodies"] = bodies
    elif body is not None:
        config["body"] = body
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "config.json"
        file.write_text(json.dumps(config))
        out = subprocess.run([node, str(Path(__file__).with_name("openloop.mjs")), str(file)],
                             capture_output=True, text=True, check=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def open_loop_python(port: int, path: str, bodies: list[str], rate: float, duration: int,
                     headers: dict[str, str] | None = None) -> Latency:
    """:func:`open_loop` in Python's asyncio, in the bench's own process (see the module text)."""
    return asyncio.run(_open_loop(port, path, bodies, rate, duration, headers or {}))


async def _open_loop(port: int, path: str, bodies: list[str], rate: float, duration: int,
                     headers: dict[str, str]) -> Latency:
    count = min(len(bodies), int(rate * duration))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CLIENTS):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()

    async def one(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        reader, writer = await pool.get()
        body = bodies[i].encode()
        writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
                     .encode() + body)
        answer = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in answer.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await reader.readexactly(length)
        pool.put_nowait((reader, writer))
        latencies.append((time.perf_counter() - due) * 1000)
        if not answer.startswith((b"HTTP/1.1 2", b"HTTP/1.1 3")):
            errors += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return Latency(rate, count / elapsed, _p99(latencies), errors)


def main() -> int:
    """The three generators on one row at one rate: h2load, Node, Python (against ``serve``'s
    ``refresh_token`` row, or with ``--bare`` against the bare app's echo of the same body)."""
    import argparse
    import os

    from bench.peers import ensure_tools
    from bench.run import free_port, init_tenant, process
    from bench.served import post_json

    parser = argparse.ArgumentParser(description="p99 of the refresh_token row offered by each generator")
    parser.add_argument("--rate", type=float, default=1500)
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--bare", action="store_true", help="against the bare app (bench/bare.py) instead")
    args = parser.parse_args()
    _, h2, node = ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
        env["HEADLESS_REDIRECTS_DATABASE_URL"] = f"sqlite:///{tmp}/latency.db"
        tenant = init_tenant(env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        if args.bare:
            server = [sys.executable, "-m", "uvicorn", "bench.bare:app", "--host", "127.0.0.1", "--port", str(port),
                      "--no-access-log", "--log-level", "warning"]
            env["PYTHONPATH"] = str(ROOT)
        else:
            server = [sys.executable, "-m", "headless_redirects.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        with process(server, {**env, "HEADLESS_REDIRECTS_PUBLIC_URL": url}, url):
            refresh = {"refresh_token": "-"} if args.bare else post_json(
                url + "/oauth2/token", {"clientId": tenant["clientId"], "grantType": "anonymous"})
            body = json.dumps({"clientId": tenant["clientId"], "grantType": "refresh_token",
                               "refreshToken": refresh["refresh_token"]})
            json_type = {"content-type": "application/json"}
            generators: list[tuple[str, Callable[[], Latency]]] = [
                ("h2load", lambda: h2load(h2, url + "/oauth2/token", args.rate, args.duration, method="POST",
                                          body=body, headers=json_type)),
                ("Node (bench/openloop.mjs)", lambda: open_loop(port, "/oauth2/token", args.rate, args.duration,
                                                                method="POST", body=body, headers=json_type,
                                                                node=node)),
                ("Python asyncio", lambda: open_loop_python(port, "/oauth2/token", [body] * int(args.rate * args.duration),
                                                            args.rate, args.duration, json_type)),
            ]
            for name, measure in generators:
                result = measure()
                stolen = "" if result.steal is None else (
                    f"  steal {result.steal.fraction:.1%} (worst {WINDOW} s {result.steal.worst:.1%}), "
                    f"p99 unstolen {result.p99_unstolen_ms:.1f} ms ({result.left_out} left out)")
                print(f"{name:28} offered {result.rate:7,.0f}/s  answered {result.achieved:7,.0f}/s  "
                      f"p99 {result.p99_ms:7.1f} ms  errors {result.errors}{stolen}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
