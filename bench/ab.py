"""A/B of two source trees on one endpoint, for changes smaller than the machine's noise.

    python bench/ab.py --before DIR [--endpoint anonymous] [--runs 10] [--duration 3] [--postgres URL]

Starts ``serve`` from this checkout (A) and from the source folder ``DIR`` (B, for example
``git archive <rev> src | tar -x -C DIR``), each on a database of its own, both for the whole
run (on SQLite, or with ``--postgres`` on PostgreSQL); then loads them in turn, A B A B ..., ``--runs`` times each with ``wrk -t1 -c64`` for
``--duration`` seconds after one warm-up, and prints every pair and the medians. On a shared
machine a single run moves by ±30 %; neighbouring runs of A and B see nearly the same
machine, so the median of their ratios is steadier than either figure. Traffic goes to
127.0.0.1 only; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.peers import ensure_tools  # noqa: E402
from bench.run import REDIRECT_URI, free_port, postgres_database, process  # noqa: E402
from bench.served import ENDPOINTS, target  # noqa: E402


def server(tmp: str, name: str, pythonpath: str | None,
           database_url: str = "") -> tuple[list[str], dict[str, str], str, dict[str, str]]:
    """The command, environment and URL of a ``serve`` on a database of its own (a SQLite file in
    ``tmp``, unless ``database_url`` is given), and its tenant."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env["HEADLESS_REDIRECTS_DATABASE_URL"] = database_url or f"sqlite:///{tmp}/{name}.db"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    tenant = json.loads(subprocess.run(
        [sys.executable, "-m", "headless_redirects.cli", "init", "--json", "--allowed-domain", "shop.example.com",
         "--redirect-uri", REDIRECT_URI], env=env, capture_output=True, text=True, check=True).stdout)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "headless_redirects.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1"]
    return command, {**env, "HEADLESS_REDIRECTS_PUBLIC_URL": url}, url, tenant


def rate(wrk: str, url: str, lua: str, seconds: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run([wrk, "-t1", "-c64", f"-d{seconds}s", "-s", script.name, url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="a source folder (holding headless_redirects)")
    parser.add_argument("--endpoint", default="anonymous", choices=ENDPOINTS)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--postgres", default="",
                        help="a PostgreSQL server URL: each side on a database of its own there (created, then dropped)")
    args = parser.parse_args()
    wrk = ensure_tools()[0]
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        a_url, b_url = ((stack.enter_context(postgres_database(args.postgres)) for _ in "ab") if args.postgres
                        else ("", ""))
        a_server = server(tmp, "a", None, a_url)
        b_server = server(tmp, "b", os.path.abspath(args.before), b_url)
        with process(*a_server[:2], a_server[2] + "/healthz"), process(*b_server[:2], b_server[2] + "/healthz"):
            targets = [target(url, tenant["clientId"], args.endpoint) for _, _, url, tenant in (a_server, b_server)]
            for url, lua in targets:
                rate(wrk, url, lua, 2)  # warm-up
            pairs = []
            for run in range(1, args.runs + 1):
                a, b = (rate(wrk, url, lua, args.duration) for url, lua in targets)
                pairs.append((a, b))
                print(f"run {run:2}  A (this checkout) {a:9,.0f} req/s   B ({args.before}) {b:9,.0f} req/s   "
                      f"A/B {a / b:5.2f}", flush=True)
            print(f"median  A {statistics.median(a for a, _ in pairs):9,.0f} req/s   "
                  f"B {statistics.median(b for _, b in pairs):9,.0f} req/s   "
                  f"A/B {statistics.median(a / b for a, b in pairs):5.2f}  ({args.endpoint}, {args.runs} pairs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
