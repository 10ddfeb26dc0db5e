"""Where a served request's time goes (issue 12 item 4): ``serve`` against the bare ASGI app on
the same uvicorn settings and generator, with the server's own CPU per request read from
``/proc/<pid>/stat`` (user and system time), so that a figure does not depend on how much of
the machine the generator took.

    python bench/served.py [--duration 5] [--rounds 2] [--endpoint short session anonymous]
                           [--before DIR] [--env NAME=VALUE ...] [--spin US ...]

Each round runs the bare app, then ``serve`` (the code of this checkout), then, with
``--before DIR``, ``serve`` from the source folder ``DIR`` (for example a copy of ``src`` at
an earlier commit) on the same database: a before/after pair measured side by side.
``--env`` adds a setting to the served runs (``HEADLESS_REDIRECTS_ACCESS_LOG=false`` measures
the access line). ``--spin 10 20`` adds the bare app slowed by a busy wait of that many
microseconds a request (``bench/spun.py``): what that much of an app's own work costs a served
request here, the kernel's part included. Ratios are to the bare app of the same round. Traffic
goes to 127.0.0.1 only; every run is bounded by --duration; every process started is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.peers import ensure_tools  # noqa: E402
from bench.run import CHECKOUT, free_port, init_tenant, process  # noqa: E402
from bench.steal import cpu_seconds  # noqa: E402

JSON_TYPE = {"Content-Type": "application/json"}
SESSION_BODY = {"ecomCheckout": {"checkoutId": CHECKOUT},
                "callbacks": {"postFlowUrl": "https://shop.example.com/after",
                              "thankYouPageUrl": "https://shop.example.com/thanks"}}


def post_json(url: str, body: object, headers: dict[str, str] | None = None) -> dict[str, object]:
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def load(wrk: str, url: str, duration: int, connections: int, pid: int, lua: str) -> tuple[str, float]:
    """A 2 s warm-up, then ``duration`` seconds of wrk; the server's CPU over the measured part
    (a line to print, and the requests a second)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    base = [wrk, "-t1", f"-c{connections}", "-s", script.name]
    subprocess.run([*base, "-d2s", url], capture_output=True, check=True)
    user, system = cpu_seconds(pid)
    out = subprocess.run([*base, f"-d{duration}s", url], capture_output=True, text=True, check=True).stdout
    user2, system2 = cpu_seconds(pid)
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    n = rps * duration
    return (f"{rps:9,.0f} req/s  CPU {(user2 - user + system2 - system) / n * 1e6:6.1f} µs/req "
            f"(user {(user2 - user) / n * 1e6:5.1f}, system {(system2 - system) / n * 1e6:5.1f})"
            f"{'  non-2xx/3xx: ' + bad.group(1) if bad else ''}"), rps


def post_lua(body: object, headers: dict[str, str]) -> str:
    lua = f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n'
    return lua + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())


ENDPOINTS = ["short", "session", "anonymous", "refresh"]


def request_of(url: str, client_id: str, endpoint: str) -> tuple[str, object | None, dict[str, str]]:
    """The URL, JSON body (``None``: a GET) and headers of ``endpoint`` (short, session,
    anonymous, refresh) on a running ``serve``, with the visitor token and session it needs made
    first."""
    token_body = {"clientId": client_id, "grantType": "anonymous"}
    if endpoint == "anonymous":
        return url + "/oauth2/token", token_body, JSON_TYPE
    visitor = post_json(url + "/oauth2/token", token_body)
    if endpoint == "refresh":  # the bench's refresh row (bench/run.py)
        return url + "/oauth2/token", {"clientId": client_id, "grantType": "refresh_token",
                                       "refreshToken": visitor["refresh_token"]}, JSON_TYPE
    access = str(visitor["access_token"])
    path = url + "/_api/redirects-api/v1/redirect-session"
    if endpoint == "session":
        return path, SESSION_BODY, {**JSON_TYPE, "Authorization": access}
    session = post_json(path, SESSION_BODY, {"Authorization": access})["redirectSession"]
    return url + "/r/" + str(session["shortUrl"]).rsplit("/", 1)[1], None, {}  # type: ignore[index]


def target(url: str, client_id: str, endpoint: str) -> tuple[str, str]:
    """The URL and wrk script of ``endpoint`` (:func:`request_of`)."""
    full, body, headers = request_of(url, client_id, endpoint)
    return full, "" if body is None else post_lua(body, headers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--endpoint", nargs="*", default=["short"], choices=ENDPOINTS)
    parser.add_argument("--before", default="", help="a source folder (holding headless_redirects) to compare")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the served runs")
    parser.add_argument("--spin", nargs="*", type=int, default=[], metavar="US",
                        help="also the bare app with a busy wait of US microseconds a request")
    args = parser.parse_args()
    wrk = ensure_tools()[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    with tempfile.TemporaryDirectory() as tmp:
        env["HEADLESS_REDIRECTS_DATABASE_URL"] = f"sqlite:///{tmp}/served.db"
        tenant = init_tenant(env)
        token_body = {"clientId": tenant["clientId"], "grantType": "anonymous"}
        uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", "1", "--no-access-log",
                   "--log-level", "warning"]
        # (name, command, environment, whether it is a bare app: loaded with the bare app's requests)
        setups: list[tuple[str, list[str], dict[str, str], bool]] = [
            ("bare", [*uvicorn, "bench.bare:app"], {"PYTHONPATH": str(ROOT)}, True)]
        setups += [(f"bare + {us} µs spin", [*uvicorn, "bench.spun:app"],
                    {"PYTHONPATH": str(ROOT), "BENCH_SPIN_US": str(us)}, True) for us in args.spin]
        extra = dict(e.split("=", 1) for e in args.env)
        serve = [sys.executable, "-m", "headless_redirects.cli", "serve", "--host", "127.0.0.1", "--workers", "1"]
        setups.append(("serve (this checkout)", serve, extra, False))
        if args.before:
            setups.append((f"serve ({args.before})", serve, {**extra, "PYTHONPATH": args.before}, False))
        for round_ in range(1, args.rounds + 1):
            bare_rps: dict[str, float] = {}
            for name, command, more, bare in setups:
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                with process([*command, "--port", str(port)],
                             {**env, **more, "HEADLESS_REDIRECTS_PUBLIC_URL": url}, url) as proc:
                    for endpoint in args.endpoint:
                        if bare:
                            url_of, lua = (url + "/r/x", "") if endpoint == "short" else (
                                url + "/echo", post_lua(SESSION_BODY if endpoint == "session" else token_body,
                                                        JSON_TYPE))
                        else:
                            url_of, lua = target(url, tenant["clientId"], endpoint)
                        line, rps = load(wrk, url_of, args.duration, args.connections, proc.pid, lua)
                        if name == "bare":
                            bare_rps[endpoint] = rps
                        else:
                            line += f"  {rps / bare_rps[endpoint]:.2f} × bare"
                        print(f"round {round_}  {endpoint:9}  {name:28} {line}", flush=True)
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
