"""A/B of two source trees on one endpoint, for changes smaller than the machine's noise.

    python bench/ab.py --before DIR [--endpoint anonymous] [--runs 10] [--duration 3] [--postgres URL]
                       [--beside session]

Starts ``serve`` from this checkout (A) and from the source folder ``DIR`` (B, for example
``git archive <rev> src | tar -x -C DIR``), each on a database of its own, both for the whole
run (on SQLite, or with ``--postgres`` on PostgreSQL); then loads them in turn, A B A B ..., ``--runs`` times each with ``wrk -t1 -c64`` for
``--duration`` seconds after one warm-up, and prints every pair and the medians. On a shared
machine a single run moves by ±30 %; neighbouring runs of A and B see nearly the same
machine, so the median of their ratios is steadier than either figure. With ``--beside E``, a
second wrk loads endpoint E at the same time (48 connections, and 16 for ``--endpoint``): a
mixed load, for changes that concern how requests of two kinds share a server; both rates and
their sum are printed. Traffic goes to 127.0.0.1 only; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.peers import ensure_tools  # noqa: E402
from bench.run import free_port, init_tenant, postgres_database, process, wrk_counts  # noqa: E402
from bench.served import ENDPOINTS, target  # noqa: E402


def server(tmp: str, name: str, pythonpath: str | None,
           database_url: str = "") -> tuple[list[str], dict[str, str], str, dict[str, str]]:
    """The command, environment and URL of a ``serve`` on a database of its own (a SQLite file in
    ``tmp``, unless ``database_url`` is given), and its tenant."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env["HEADLESS_REDIRECTS_DATABASE_URL"] = database_url or f"sqlite:///{tmp}/{name}.db"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    tenant = init_tenant(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "headless_redirects.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1"]
    return command, {**env, "HEADLESS_REDIRECTS_PUBLIC_URL": url}, url, tenant


def rates(wrk: str, loads: list[tuple[str, str, int]], seconds: int) -> list[float]:
    """req/s of each ``(url, lua, connections)`` load, all run at once for ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        running = []
        for i, (url, lua, connections) in enumerate(loads):
            script = Path(tmp) / f"{i}.lua"
            script.write_text(lua)
            running.append(subprocess.Popen([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                                            stdout=subprocess.PIPE, text=True))
        found = []
        for proc in running:
            out = proc.communicate()[0]
            if proc.returncode:
                raise subprocess.CalledProcessError(proc.returncode, proc.args, out)
            found.append(wrk_counts(out)[0])
        return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="a source folder (holding headless_redirects)")
    parser.add_argument("--endpoint", default="anonymous", choices=ENDPOINTS)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--postgres", default="",
                        help="a PostgreSQL server URL: each side on a database of its own there (created, then dropped)")
    parser.add_argument("--beside", choices=ENDPOINTS, default=None,
                        help="an endpoint loaded at the same time (48 connections; --endpoint gets 16)")
    args = parser.parse_args()
    wrk = ensure_tools()[0]
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        a_url, b_url = ((stack.enter_context(postgres_database(args.postgres)) for _ in "ab") if args.postgres
                        else ("", ""))
        a_server = server(tmp, "a", None, a_url)
        b_server = server(tmp, "b", os.path.abspath(args.before), b_url)
        with process(*a_server[:2], a_server[2] + "/healthz"), process(*b_server[:2], b_server[2] + "/healthz"):
            sides = []
            for _, _, url, tenant in (a_server, b_server):
                loads = [(*target(url, tenant["clientId"], args.endpoint), 16 if args.beside else 64)]
                if args.beside:
                    loads.append((*target(url, tenant["clientId"], args.beside), 48))
                sides.append(loads)
            for loads in sides:
                rates(wrk, loads, 2)  # warm-up
            pairs: list[tuple[list[float], list[float]]] = []
            for run in range(1, args.runs + 1):
                a, b = (_all(rates(wrk, loads, args.duration)) for loads in sides)
                pairs.append((a, b))
                print(f"run {run:2}  A (this checkout) {_shown(a)}   B ({args.before}) {_shown(b)}   "
                      f"A/B {_ratios(a, b)}", flush=True)
            columns = range(len(pairs[0][0]))
            median_a = [statistics.median(a[i] for a, _ in pairs) for i in columns]
            median_b = [statistics.median(b[i] for _, b in pairs) for i in columns]
            ratios = " / ".join(f"{statistics.median(a[i] / b[i] for a, b in pairs):5.2f}" for i in columns)
            names = f"{args.endpoint} + {args.beside} = both" if args.beside else args.endpoint
            print(f"median  A {_shown(median_a)}   B {_shown(median_b)}   A/B {ratios}  ({names}, {args.runs} pairs)")
    return 0


def _all(found: list[float]) -> list[float]:
    """One run's rates, and their sum when two loads ran at once."""
    return found if len(found) == 1 else [*found, sum(found)]


def _shown(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:9,.0f} req/s"
    return f"{values[0]:9,.0f} + {values[1]:,.0f} = {values[2]:,.0f} req/s"


def _ratios(a: list[float], b: list[float]) -> str:
    return " / ".join(f"{x / y:5.2f}" for x, y in zip(a, b, strict=True))


if __name__ == "__main__":
    raise SystemExit(main())
