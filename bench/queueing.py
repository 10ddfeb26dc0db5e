"""Where a fixed-rate run's p99 comes from (SPEC §7's p99 at half the maximum): the server's own
time on each request against the latency the generator saw, tenth of a second by tenth of a
second, and the server's CPU a request at that rate against the same at saturation.

    python bench/queueing.py [--endpoint anonymous] [--rate 5000] [--runs 3] [--duration 10]
                             [--env NAME=VALUE ...]

One ``serve`` (a fresh SQLite database) takes ``--runs`` fixed-rate runs of ``bench/openloop.mjs``
(16 keep-alive connections, request i due at start + i/rate, its latency counted from then, as in
``bench/run.py``), two seconds apart, then a closed-loop wrk run (64 connections, as the bench's
maximum). For each fixed-rate run it prints the p99, the server's CPU (user + system, of one
core, and per request) and the slowest windows of 0.1 s: the requests the server finished in that
window against the rate offered, the slowest of them by the server's own clock (the access line's
``duration_ms``, from the request's start in the app to its answer), and the median latency the
generator saw for the requests due in it. A generator's latency far above the server's own time,
with fewer requests finished than offered, is a queue in front of the app: the server was short of
CPU for those windows, not slow on any one request. Traffic goes to 127.0.0.1 only; every run is
bounded; every process started is stopped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.latency import open_loop_trace  # noqa: E402
from bench.peers import ensure_tools  # noqa: E402
from bench.run import free_port, init_tenant, process  # noqa: E402
from bench.served import load, post_lua, request_of  # noqa: E402
from bench.steal import cpu_seconds  # noqa: E402

WINDOW = 0.1  # seconds


def access_lines(path: Path) -> list[tuple[float, float]]:
    """(time the line was written, the request's duration in ms) of each access line in ``path``."""
    found = []
    for line in path.read_text().splitlines():
        if '"headless_redirects.access"' not in line:
            continue
        record = json.loads(line)
        at = datetime.datetime.fromisoformat(record["time"].replace("Z", "+00:00")).timestamp()
        found.append((at, float(record["duration_ms"])))
    return found


def windows(result: dict[str, Any], lines: list[tuple[float, float]], rate: float) -> list[str]:
    """The three windows with the highest median latency seen by the generator."""
    dues = [d / 1000 for d in result["due"]]
    start, end = min(dues), max(dues)
    seen: dict[int, list[float]] = defaultdict(list)
    for due, latency in zip(dues, result["latency"], strict=True):
        seen[int((due - start) / WINDOW)].append(latency)
    own: dict[int, list[float]] = defaultdict(list)
    for at, duration in lines:
        if start <= at <= end + 1:
            own[int((at - start) / WINDOW)].append(duration)
    ranked = sorted(seen, key=lambda w: sorted(seen[w])[len(seen[w]) // 2], reverse=True)[:3]
    rows = []
    for w in sorted(ranked):
        latencies = sorted(seen[w])
        finished = own.get(w, [])
        rows.append(f"    at {w * WINDOW:4.1f}-{(w + 1) * WINDOW:4.1f} s: finished {len(finished):4d} "
                    f"(offered {rate * WINDOW:.0f}), slowest by the server's clock "
                    f"{max(finished, default=0):6.1f} ms; generator's median latency "
                    f"{latencies[len(latencies) // 2]:6.1f} ms")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="anonymous", choices=["short", "session", "anonymous", "refresh"])
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for serve")
    args = parser.parse_args()
    wrk, _, node = ensure_tools()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    with tempfile.TemporaryDirectory() as tmp:
        env["HEADLESS_REDIRECTS_DATABASE_URL"] = f"sqlite:///{tmp}/queueing.db"
        tenant = init_tenant(env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "serve.log"
        serve = [sys.executable, "-m", "headless_redirects.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        with open(log, "w") as out, process(
                serve, {**env, **dict(e.split("=", 1) for e in args.env), "HEADLESS_REDIRECTS_PUBLIC_URL": url},
                url + "/healthz", output=out) as proc:
            full, body, headers = request_of(url, tenant["clientId"], args.endpoint)
            path = full[len(url):]
            for run in range(1, args.runs + 1):
                user, system = cpu_seconds(proc.pid)
                result = open_loop_trace(port, path, args.rate, args.duration, method="GET" if body is None else "POST",
                                         body=None if body is None else json.dumps(body), headers=headers, node=node)
                user2, system2 = cpu_seconds(proc.pid)
                time.sleep(0.5)  # the last access lines reach the file
                answered = len(result["latency"])
                cpu = user2 - user + system2 - system
                print(f"run {run}: offered {args.rate:,.0f}/s, answered {result['achieved']:,.0f}/s, "
                      f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}; server CPU "
                      f"{cpu / args.duration:.0%} of a core, {cpu / answered * 1e6:.0f} µs a request", flush=True)
                for row in windows(result, access_lines(log), args.rate):
                    print(row, flush=True)
                time.sleep(2)
            lua = "" if body is None else post_lua(body, headers)
            print(f"closed loop (wrk, 64 connections): {load(wrk, full, args.duration, 64, proc.pid, lua)}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
