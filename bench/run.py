"""The benchmark of SPEC §7: each endpoint against the bare ASGI app, same server, same worker
count, same load generator (wrk); p99 at a fixed offered rate of half each row's maximum (the open-loop
generator of ``latency``); the SQLite WAL's size after each write row; the reference Node server
(oidc-provider, see ``peers``) beside the ``anonymous`` token; the scale rows; and the flatness rows
(``stored``: 10 k against 1 M stored sessions, the worker's memory under load). Installs its
own tools when missing. Writes the tables to docs/benchmarks.md.

    python bench/run.py [--duration 10] [--connections 64] [--workers 1] [--small 10000] [--large 1000000]

Traffic goes to 127.0.0.1 only; every run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # ``python bench/run.py`` from anywhere
    sys.path.insert(0, str(ROOT))

from bench.latency import CLIENTS, Latency, open_loop  # noqa: E402
from bench.peers import OIDC_FORM, ensure_tools, oidc_command, oidc_version  # noqa: E402
from bench.steal import STOLEN, WINDOW, StealMeter  # noqa: E402

CHECKOUT = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"


@dataclass
class Result:
    rps: float
    p99_ms: float
    errors: int
    steal: float = 0.0  # of the machine's CPU time, taken by the hypervisor during the run (bench/steal.py)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str) -> None:
    """Wait until the server accepts connections (the bare app's 302 points off this machine,
    so an HTTP client must not follow it)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                time.sleep(0.3)  # the listening socket is up; let the app finish starting
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(cmd: list[str], env: dict[str, str], probe: str,
            output: IO[str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    # Nothing reads the server's output while it runs: a pipe would fill with access lines and stall
    # it. ``output``: a file its output (standard output and error) goes to instead.
    proc = subprocess.Popen(cmd, env=env, stdout=output or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if output else subprocess.DEVNULL)
    try:
        wait_up(probe)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(binary: str, url: str, args: argparse.Namespace, *, method: str = "GET", body: str = "",
        headers: dict[str, str] | None = None, bodies_file: str | None = None) -> Result:
    """One wrk run. ``bodies_file`` (one body a line) sends each line once, in turn, for
    endpoints whose input is single-use (authorization codes)."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    with script:
        script.write(f"wrk.method = {json.dumps(method)}\n")
        if body:
            script.write(f"wrk.body = {json.dumps(body)}\n")
        for k, v in (headers or {}).items():
            script.write(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n")
        if bodies_file:
            script.write(
                f"local bodies = {{}}\nfor line in io.lines({json.dumps(bodies_file)}) do bodies[#bodies + 1] = line end\n"
                "local i = 0\n"
                "request = function()\n  i = i + 1\n"
                "  return wrk.format(nil, nil, nil, bodies[((i - 1) % #bodies) + 1])\nend\n"
            )
    base = [binary, "-t", str(args.threads), "-c", str(args.connections), "-s", script.name, "--latency"]
    if not bodies_file:  # single-use inputs are not spent on a warm-up
        subprocess.run([*base, "-d", "2s", url], capture_output=True, check=True)
    with StealMeter() as meter:
        out = subprocess.run([*base, "-d", f"{args.duration}s", url], capture_output=True, text=True,
                             check=True).stdout
    os.unlink(script.name)
    rps, count = wrk_counts(out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return Result(rps, float(p99.group(1)) * scale, count, meter.result.fraction)


def median_pair(pairs: list[tuple[Result, Result]]) -> tuple[Result, Result]:
    """The pair (service, bare) whose ratio is the median of ``pairs``' (the upper one of an even
    count)."""
    ranked = sorted(pairs, key=lambda pair: pair[0].rps / pair[1].rps)
    return ranked[len(ranked) // 2]


def wrk_counts(out: str) -> tuple[float, int]:
    """req/s and errors (non-2xx/3xx answers plus socket errors) of a wrk report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    count = int(bad.group(1)) if bad else 0
    if errors:
        count += sum(int(g) for g in errors.groups())
    return rps, count


def post_json(url: str, body: dict[str, object], headers: dict[str, str] | None = None) -> dict[str, object]:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
REDIRECT_URI = "https://shop.example.com/callback"


def init_tenant(env: dict[str, str], *, redirect_uri: bool = True) -> dict[str, str]:
    """``headless-redirects init --json`` on the database of ``env``: the bench's site and app,
    allowed on shop.example.com, with :data:`REDIRECT_URI` unless ``redirect_uri`` is false."""
    more = ["--redirect-uri", REDIRECT_URI] if redirect_uri else []
    return json.loads(subprocess.run(  # type: ignore[no-any-return]
        [sys.executable, "-m", "headless_redirects.cli", "init", "--json", "--allowed-domain", "shop.example.com", *more],
        env=env, capture_output=True, text=True, check=True).stdout)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def prepare_codes(database_url: str, tenant: dict[str, str], count: int, path: Path, *,
                  email: str = "bench@example.com") -> None:
    """A member, and ``count`` authorization codes for it (PKCE S256), written as token request
    bodies, one a line. The codes are stored as the authorize endpoint stores them."""
    import sqlalchemy as sa

    from headless_redirects.domain.pkce import challenge
    from headless_redirects.service.grants.authorization_code import code_key, new_code
    from headless_redirects.service.members import MemberService
    from headless_redirects.storage.database import Database
    from headless_redirects.storage.identity import IdentityStore
    from headless_redirects.storage.tables import authorization_codes

    db = Database(database_url)
    member = MemberService(IdentityStore(db)).create(tenant["siteId"], email, "bench password")
    now = int(time.time())
    rows, lines = [], []
    for _ in range(count):
        code = new_code()
        rows.append({"code_hash": code_key(code), "site_id": tenant["siteId"], "client_id": tenant["clientId"],
                     "member_id": member.id, "redirect_uri": REDIRECT_URI, "scope": "offline_access",
                     "code_challenge": challenge(VERIFIER, "S256"), "code_challenge_method": "S256",
                     "nonce": None, "created_at": now, "expires_at": now + 600, "redeemed_at": None,
                     "grant_id": None})
        lines.append(json.dumps({"clientId": tenant["clientId"], "grantType": "authorization_code", "code": code,
                                 "codeVerifier": VERIFIER, "redirectUri": REDIRECT_URI}))
    with db.engine.begin() as c:
        c.execute(sa.insert(authorization_codes), rows)
    db.dispose()
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=3, help="runs of the service and the bare app, in turn, per row")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--postgres", default=os.environ.get("HEADLESS_REDIRECTS_TEST_DATABASE_URL", ""),
                        help="a PostgreSQL server URL (trust or password auth) for the scale-out rows; the bench "
                             "creates its own database there and drops it afterwards (default: "
                             "$HEADLESS_REDIRECTS_TEST_DATABASE_URL; empty: no PostgreSQL rows)")
    parser.add_argument("--small", type=int, default=10_000, help="stored sessions of the flatness rows' small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="... and of the large one (bench/stored.py)")
    args = parser.parse_args()
    binary, _, node = ensure_tools()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    server = ["--host", "127.0.0.1", "--workers", str(args.workers)]
    results: dict[str, tuple[Result, Result]] = {}  # the median pair of each row
    pairs: dict[str, list[tuple[Result, Result]]] = {}  # every pair: (service, bare)

    with tempfile.TemporaryDirectory() as tmp:
        env["HEADLESS_REDIRECTS_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env["HEADLESS_REDIRECTS_PUBLIC_URL"] = url
        tenant = init_tenant(env)
        # Enough single-use codes for each of the row's runs at well above the rates seen here (wrk
        # starts over at the first when it runs out, and a spent code is an error: at 6,000 a
        # second the run at e22fec5 ran out); a file of its own for each run.
        codes_files = [Path(tmp) / f"codes-{i}.txt" for i in range(args.pairs)]
        for i, path in enumerate(codes_files):
            prepare_codes(env["HEADLESS_REDIRECTS_DATABASE_URL"], tenant, args.duration * 15000, path,
                          email=f"bench-{i}@example.com")
        fixed_rate_codes = Path(tmp) / "codes-fixed-rate.txt"  # fresh ones for the fixed-rate run
        prepare_codes(env["HEADLESS_REDIRECTS_DATABASE_URL"], tenant, args.duration * 7500, fixed_rate_codes,
                      email="bench-fixed-rate@example.com")
        wal = Path(f"{tmp}/bench.db-wal")
        wal_after: dict[str, int] = {}
        token_body = {"clientId": tenant["clientId"], "grantType": "anonymous"}
        session_body: dict[str, object] = {"ecomCheckout": {"checkoutId": CHECKOUT},
                        "callbacks": {"postFlowUrl": "https://shop.example.com/after",
                                      "thankYouPageUrl": "https://shop.example.com/thanks"}}
        # The service, exactly as users run it; beside it the bare ASGI app on the same server
        # (uvicorn, same worker count and defaults) and the reference Node authorization server,
        # one process. All three run through the closed-loop runs, idle but the one under load.
        bare_port = free_port()
        bare_url = f"http://127.0.0.1:{bare_port}"
        bare_cmd = [sys.executable, "-m", "uvicorn", "bench.bare:app", *server, "--port", str(bare_port),
                    "--no-access-log", "--log-level", "warning"]
        oidc_port = free_port()
        oidc_url = f"http://127.0.0.1:{oidc_port}/token"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        with process([sys.executable, "-m", "headless_redirects.cli", "serve", *server, "--port", str(port)],
                     env, f"{url}/healthz") as served, contextlib.ExitStack() as others:
            others.enter_context(process(bare_cmd, {**env, "PYTHONPATH": str(ROOT)}, bare_url + "/"))
            others.enter_context(process(oidc_command(node, oidc_port), env, oidc_url))
            visitor = post_json(f"{url}/oauth2/token", token_body)
            access = str(visitor["access_token"])
            refresh_body = {"clientId": tenant["clientId"], "grantType": "refresh_token",
                            "refreshToken": visitor["refresh_token"]}
            session = post_json(f"{url}/_api/redirects-api/v1/redirect-session", session_body,
                                {"Authorization": access})["redirectSession"]
            short_path = "/r/" + str(session["shortUrl"]).rsplit("/", 1)[1]  # type: ignore[index]
            json_type = {"Content-Type": "application/json"}
            session_headers = {"Authorization": access, **json_type}
            session_url = f"{url}/_api/redirects-api/v1/redirect-session"
            echo = bare_url + "/echo"

            def post(target: str, body: dict[str, object] | dict[str, str], headers: dict[str, str]) -> Callable[
                    [int], Result]:
                return lambda _: wrk(binary, target, args, method="POST", body=json.dumps(body), headers=headers)

            def codes(target: str) -> Callable[[int], Result]:
                return lambda i: wrk(binary, target, args, method="POST", bodies_file=str(codes_files[i]),
                                     headers=json_type)

            # Each row: the service and the bare app loaded in turn, ``--pairs`` times; the ratio of
            # the row is the median of the pairs' (neighbouring runs see nearly the same machine).
            plan: dict[str, tuple[Callable[[int], Result], Callable[[int], Result]]] = {
                "short": (lambda _: wrk(binary, url + short_path, args), lambda _: wrk(binary, bare_url + short_path,
                                                                                      args)),
                "session": (post(session_url, session_body, session_headers),
                            post(echo, session_body, session_headers)),
                "anonymous": (post(f"{url}/oauth2/token", token_body, json_type), post(echo, token_body, json_type)),
                "code": (codes(f"{url}/oauth2/token"), codes(echo)),
                "refresh": (post(f"{url}/oauth2/token", refresh_body, json_type), post(echo, refresh_body, json_type)),
            }
            oidc_runs: list[Result] = []
            for key, (service_run, bare_run) in plan.items():
                pairs[key] = []
                for i in range(args.pairs):
                    pairs[key].append((service_run(i), bare_run(i)))
                    if key == "anonymous":  # the peer in the same turn
                        oidc_runs.append(wrk(binary, oidc_url, args, method="POST", body=OIDC_FORM, headers=form))
                if key != "short":
                    wal_after[key] = _size(wal)
                results[key] = median_pair(pairs[key])
            peer_ratios = [svc.rps / oidc.rps for (svc, _), oidc in zip(pairs["anonymous"], oidc_runs, strict=True)]
            turn = sorted(range(len(peer_ratios)), key=peer_ratios.__getitem__)[len(peer_ratios) // 2]
            ours, oidc = pairs["anonymous"][turn][0], oidc_runs[turn]
            # p99 at half of each row's maximum, offered at a constant rate (SPEC §7), with the
            # service alone on the machine: the others are stopped first.
            others.close()
            service = {key: pair[0] for key, pair in results.items()}
            fixed = {
                "short": open_loop(port, short_path, service["short"].rps / 2, args.duration, node=node, pid=served.pid),
                "session": open_loop(port, "/_api/redirects-api/v1/redirect-session", service["session"].rps / 2,
                                     args.duration, method="POST", body=json.dumps(session_body),
                                     headers=session_headers, node=node, pid=served.pid),
                "anonymous": open_loop(port, "/oauth2/token", service["anonymous"].rps / 2, args.duration,
                                       method="POST", body=json.dumps(token_body), headers=json_type, node=node, pid=served.pid),
                "code": open_loop(port, "/oauth2/token", service["code"].rps / 2, args.duration, method="POST",
                                  bodies=fixed_rate_codes.read_text().splitlines(), headers=json_type, node=node, pid=served.pid),
                "refresh": open_loop(port, "/oauth2/token", service["refresh"].rps / 2, args.duration,
                                     method="POST", body=json.dumps(refresh_body), headers=json_type, node=node, pid=served.pid),
            }
            wal_after["end"] = _size(wal)
        with process(oidc_command(node, oidc_port), env, oidc_url):  # the peer's, alone too
            oidc_fixed = open_loop(oidc_port, "/token", oidc.rps / 2, args.duration, method="POST", body=OIDC_FORM,
                                   headers=form, node=node)
        # The ceiling's own p99 at half its own maximum, alone too: what the target's rate asks of
        # this server, generator and machine with no app to speak of (a reference, not a target).
        with process(bare_cmd, {**env, "PYTHONPATH": str(ROOT)}, bare_url + "/") as bare:
            bare_fixed = {
                "GET": open_loop(bare_port, short_path, results["short"][1].rps / 2, args.duration, node=node,
                                 pid=bare.pid),
                "POST": open_loop(bare_port, "/echo", results["session"][1].rps / 2, args.duration, method="POST",
                                  body=json.dumps(session_body), headers=session_headers, node=node, pid=bare.pid),
            }

    rows = [
        ("short-link redirect `GET /r/<code>`", "short", 0.60, 10.0, "bare GET"),
        ("create session (visitor token reused, SQLite)", "session", 0.30, 25.0, "bare POST"),
        ("`anonymous` token", "anonymous", 0.25, 25.0, "bare POST"),
        ("`authorization_code` + PKCE exchange", "code", 0.15, 40.0, "bare POST"),
        ("`refresh_token`", "refresh", 0.25, 25.0, "bare POST"),
    ]
    scale = scale_rows(binary, args, env, session_body, token_body)
    from bench import stored  # SPEC §7's flatness: 10 k against 1 M stored sessions, memory under load

    flatness = stored.report(stored.measure(binary, env, small=args.small, large=args.large, rounds=3, duration=4,
                                            soak_seconds=60), rounds=3, duration=4)
    write_report(Path(args.output), args, rows, results, scale, fixed=fixed, wal_after=wal_after,
                 peer=(ours, oidc, oidc_fixed), flatness=flatness, pairs=pairs, peer_ratios=peer_ratios,
                 bare_fixed=bare_fixed)
    print(Path(args.output).read_text())
    return 0


SCALE_KEYS = ("short", "session", "anonymous")


@dataclass
class ScaleRow:
    label: str
    results: dict[str, Result]


@dataclass
class Target:
    url: str
    short_path: str
    access: str
    token_body: dict[str, str]


@contextmanager
def serving(env: dict[str, str], session_body: dict[str, object], token_body_of: dict[str, str], *,
            workers: int, instances: int = 1) -> Iterator[Target]:
    """``serve`` on the database named by ``env`` (``instances`` of it behind HAProxy when more
    than one), with a tenant, a visitor token and a short link to load."""
    env = dict(env)
    ports = [free_port() for _ in range(instances)]
    front = free_port() if instances > 1 else ports[0]
    url = f"http://127.0.0.1:{front}"
    env["HEADLESS_REDIRECTS_PUBLIC_URL"] = url
    tenant = init_tenant(env, redirect_uri=False)
    token_body = {**token_body_of, "clientId": tenant["clientId"]}
    with contextlib.ExitStack() as stack:
        for port in ports:
            stack.enter_context(process([sys.executable, "-m", "headless_redirects.cli", "serve", "--host", "127.0.0.1",
                                         "--workers", str(workers), "--port", str(port)],
                                        env, f"http://127.0.0.1:{port}/healthz"))
        if instances > 1:
            haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
            lb_env = {**env, "HR_LISTEN": f"127.0.0.1:{front}",
                      **{f"HR_INSTANCE_{i + 1}": f"127.0.0.1:{p}" for i, p in enumerate(ports)}}
            stack.enter_context(process([haproxy, "-f", str(ROOT / "deploy" / "haproxy.cfg"), "-db"], lb_env,
                                        f"{url}/healthz"))
            time.sleep(1.5)  # both servers pass their health checks
        visitor = post_json(f"{url}/oauth2/token", token_body)
        access = str(visitor["access_token"])
        session = post_json(f"{url}/_api/redirects-api/v1/redirect-session", session_body,
                            {"Authorization": access})["redirectSession"]
        yield Target(url, "/r/" + str(session["shortUrl"]).rsplit("/", 1)[1], access, token_body)  # type: ignore[index]


def load(binary: str, args: argparse.Namespace, target: Target, key: str, session_body: dict[str, object]) -> Result:
    if key == "short":
        return wrk(binary, target.url + target.short_path, args)
    if key == "session":
        return wrk(binary, f"{target.url}/_api/redirects-api/v1/redirect-session", args, method="POST",
                   body=json.dumps(session_body),
                   headers={"Authorization": target.access, "Content-Type": "application/json"})
    return wrk(binary, f"{target.url}/oauth2/token", args, method="POST", body=json.dumps(target.token_body),
               headers={"Content-Type": "application/json"})


def side_by_side(binary: str, args: argparse.Namespace, setups: list[tuple[str, dict[str, str], int, int]],
                 session_body: dict[str, object], token_body: dict[str, str]) -> list[ScaleRow]:
    """The setups run at once (all idle but the one under load) and are loaded in turn, endpoint
    by endpoint, so that the machine's drift weighs on each alike."""
    with contextlib.ExitStack() as stack:
        targets = [stack.enter_context(serving(env, session_body, token_body, workers=w, instances=n))
                   for _, env, w, n in setups]
        rows = [ScaleRow(label, {}) for label, *_ in setups]
        for key in SCALE_KEYS:
            for row, target in zip(rows, targets, strict=True):
                row.results[key] = load(binary, args, target, key, session_body)
    return rows


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A database of the bench's own on ``server_url``, dropped afterwards."""
    import psycopg

    name = f"hr_bench_{os.urandom(5).hex()}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        base, _, _ = admin.rpartition("/")
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scale_rows(binary: str, args: argparse.Namespace, env: dict[str, str], session_body: dict[str, object],
               token_body: dict[str, str]) -> list[ScaleRow]:
    """SPEC §7's peers-and-scale rows: SQLite with 1 and 2 workers beside PostgreSQL with 1
    worker; then PostgreSQL with 1 and 2 workers side by side; then two 1-worker instances
    behind HAProxy (each group measured side by side, see ``side_by_side``)."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        def sqlite(name: str) -> dict[str, str]:
            return {**env, "HEADLESS_REDIRECTS_DATABASE_URL": f"sqlite:///{tmp}/{name}.db"}

        def postgres() -> dict[str, str]:
            return {**env, "HEADLESS_REDIRECTS_DATABASE_URL": stack.enter_context(postgres_database(args.postgres))}

        if not args.postgres:
            return side_by_side(binary, args, [("SQLite, 1 worker", sqlite("a"), 1, 1),
                                               ("SQLite, 2 workers", sqlite("b"), 2, 1)], session_body, token_body)
        first = side_by_side(binary, args, [("SQLite, 1 worker", sqlite("a"), 1, 1),
                                            ("PostgreSQL, 1 worker", postgres(), 1, 1),
                                            ("SQLite, 2 workers", sqlite("b"), 2, 1)], session_body, token_body)
        second = side_by_side(binary, args, [("PostgreSQL, 1 worker (beside 2 workers)", postgres(), 1, 1),
                                             ("PostgreSQL, 2 workers", postgres(), 2, 1)], session_body, token_body)
        third = side_by_side(binary, args, [("PostgreSQL, 2 instances × 1 worker behind HAProxy", postgres(), 1, 2)],
                             session_body, token_body)
        return first + second + third


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_report(path: Path, args: argparse.Namespace, rows: list[tuple[str, str, float, float, str]],
                 results: dict[str, tuple[Result, Result]], scale: list[ScaleRow] | None = None, *,
                 fixed: dict[str, Latency], wal_after: dict[str, int], peer: tuple[Result, Result, Latency],
                 flatness: list[str] | None = None, pairs: dict[str, list[tuple[Result, Result]]] | None = None,
                 peer_ratios: list[float] | None = None, bare_fixed: dict[str, Latency] | None = None) -> None:
    import uvicorn

    lines = [
        "# Benchmarks",
        "",
        "Measured by `python bench/run.py` (SPEC §7): each endpoint against the bare ASGI app of",
        "`bench/bare.py` (a fixed 302 for GET, an echo of the same body for POST), served by the same",
        f"server (uvicorn {uvicorn.__version__}, {args.workers} worker, its default httptools + uvloop) and loaded by the same",
        f"generator (`wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency`, after a 2 s warm-up), on one",
        f"machine: row by row, the service and then the bare app, {args.pairs} times (both servers run throughout,",
        "idle but the one under load). A row's ratio is the median of its pairs' ratios (neighbouring runs",
        "see nearly the same machine), and its req/s, p99 and steal are that pair's.",
        "The service runs as `headless-redirects serve` on its default SQLite (WAL) database.",
        "Then, the bare app and the peer stopped, each row is offered half its measured maximum at a constant",
        "rate for the p99 of SPEC §7",
        f"(`bench/openloop.mjs` on Node, {CLIENTS} keep-alive connections, {args.duration} s: request i is due at start + i/rate",
        "whether or not earlier answers came, and its latency counts from then, so that a wait for a busy",
        "connection counts against the service; the single-use codes of the `authorization_code` row one",
        "per request), and the WAL file's size is read",
        "after each write row. Last, the bare app alone is offered half its own maximum alike (a reference).",
        "",
        f"Machine: {os.cpu_count()} cores ({_cpu()}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; the load generators share the cores with the server, and the",
        "machine is shared with other engineers running test suites, so figures move between runs: every ratio",
        "below is from this one run.",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| endpoint | req/s | baseline req/s | ratio | each pair's ratio | target ratio | p99, closed loop (64 conn.) "
        "| offered ½ max | p99 at ½ max | target p99 | errors | WAL after | verdict |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, key, target_ratio, target_p99, base_label in rows:
        svc, base = results[key]
        lat = fixed[key]
        ratio = svc.rps / base.rps
        each = " / ".join(f"{a.rps / b.rps:.2f}" for a, b in (pairs or {}).get(key, [(svc, base)]))
        errors = svc.errors + lat.errors + sum(a.errors for a, _ in (pairs or {}).get(key, []) if a is not svc)
        ok = ratio >= target_ratio and lat.p99_ms <= target_p99 and errors == 0
        size = f"{wal_after[key] / 2**20:.1f} MiB" if key in wal_after else "(read only)"
        lines.append(
            f"| {label} | {svc.rps:,.0f} | {base.rps:,.0f} ({base_label}) | {ratio:.2f} | {each} | ≥ {target_ratio:.2f} "
            f"| {svc.p99_ms:.1f} ms | {lat.rate:,.0f}/s ({lat.achieved:,.0f} answered) | {lat.p99_ms:.1f} ms "
            f"| ≤ {target_p99:.0f} ms | {errors} | {size} | {'meets' if ok else 'MISSES'} |"
        )
    lines += ["", f"WAL file at the end of the fixed-rate runs: {wal_after.get('end', 0) / 2**20:.1f} MiB "
              "(SPEC §7: under 64 MiB).", ""]
    lines += steal_table(rows, results, fixed)
    if bare_fixed:
        lines += bare_fixed_table(bare_fixed)
    anonymous, oidc, oidc_fixed = peer
    ratio = anonymous.rps / oidc.rps
    lines += [
        "## The reference Node authorization server (SPEC §7 peers)",
        "",
        f"`oidc-provider` {oidc_version()} from the npm registry (bench/oidc: package-lock.json, `npm ci` by the bench),",
        f"Node.js {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}, one process,"
        " its in-memory adapter, ES256-signed JWT access tokens",
        "(`at+jwt`, via a resource indicator), the `client_credentials` grant with `client_secret_post`; same wrk",
        "and open-loop settings, in the same run: loaded right after each pair of the `anonymous` row, and",
        "compared with that pair's service run. The table gives the turn whose ratio is the median.",
        "",
        "| server | req/s | p99, closed loop | p99 at ½ max | errors |",
        "|---|---:|---:|---:|---:|",
        f"| headless-redirects `anonymous` token | {anonymous.rps:,.0f} | {anonymous.p99_ms:.1f} ms "
        f"| {fixed['anonymous'].p99_ms:.1f} ms | {anonymous.errors + fixed['anonymous'].errors} |",
        f"| oidc-provider `client_credentials` | {oidc.rps:,.0f} | {oidc.p99_ms:.1f} ms | {oidc_fixed.p99_ms:.1f} ms "
        f"| {oidc.errors + oidc_fixed.errors} |",
        "",
        f"Ratio, our `anonymous` token ÷ its `client_credentials`: **{ratio:.3f}** (target ≥ 2.0: "
        f"{'meets' if ratio >= 2.0 else 'MISSES'}); each turn's: "
        f"{' / '.join(f'{r:.3f}' for r in (peer_ratios or [ratio]))}.",
        "",
    ]
    if scale:
        lines += scale_table(scale, results)
    lines += flatness or []
    path.parent.mkdir(parents=True, exist_ok=True)
    notes = path.with_name("benchmarks-notes.md")
    if notes.exists():
        lines += ["", notes.read_text().strip(), ""]
    path.write_text("\n".join(lines))


def steal_table(rows: list[tuple[str, str, float, float, str]], results: dict[str, tuple[Result, Result]],
                fixed: dict[str, Latency]) -> list[str]:
    """CPU steal during each run (bench/steal.py), and the p99 of the requests due where none was."""
    lines = [
        "## CPU steal during the runs",
        "",
        "The CPU time the hypervisor took from this virtual machine while each run lasted (`steal` in",
        f"`/proc/stat`, sampled every 0.1 s): over the whole run, and in its worst {WINDOW} s. The last column is the",
        f"p99 of the fixed-rate run's requests that fell due outside the {WINDOW} s windows with ≥ {STOLEN:.0%} of the",
        "machine's CPU time stolen (and the window after each, while the queue they left drains); it is not",
        "the figure the target is judged on (that is the p99 above), it shows how much of that figure the",
        "steal made. The service's CPU at ½ max is its own (user and system) over the fixed-rate run, in",
        "cores and per request: a share near one core is a server close to what it can answer at that",
        "pace, so that a moment's slower progress leaves a queue (`bench/queueing.py` shows it window by",
        "window). A closed loop of 64 connections answers more requests a loop turn than 16 connections at",
        "half its rate do, so each request costs more CPU at ½ max than at the maximum.",
        "",
        "| endpoint | steal, closed loop (service / bare) | steal at ½ max (worst ½ s) | service's CPU at ½ max "
        "| p99 at ½ max | p99 outside stolen windows (requests left out) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, key, *_ in rows:
        svc, base = results[key]
        lat = fixed[key]
        steal = lat.steal
        if steal is None:
            continue
        cpu = cpu_cell(lat)
        lines.append(
            f"| {label} | {svc.steal:.1%} / {base.steal:.1%} | {steal.fraction:.1%} ({steal.worst:.0%}) | {cpu} "
            f"| {lat.p99_ms:.1f} ms | {unstolen_cell(lat)} |")
    lines.append("")
    return lines


def unstolen_cell(lat: Latency) -> str:
    """The p99 of a fixed-rate run's requests due outside the stolen windows, and how many were
    left out (none is left to give a p99 when every request fell due in a stolen window)."""
    left = f"({lat.left_out:,} of {lat.answered:,})"
    return f"{lat.p99_unstolen_ms:.1f} ms {left}" if math.isfinite(lat.p99_unstolen_ms) else f"none left {left}"


def cpu_cell(lat: Latency) -> str:
    """A fixed-rate run's server CPU, in cores and per request (empty where it was not read)."""
    if math.isnan(lat.server_cpu_s) or not lat.answered:
        return ""
    return f"{lat.server_cores:.2f} core ({lat.server_cpu_s / lat.answered * 1e6:.0f} µs a request)"


def bare_fixed_table(bare_fixed: dict[str, Latency]) -> list[str]:
    """The bare app's own p99 at half its own maximum: the ceiling's, for the p99 targets."""
    lines = [
        "## The bare app at half its own maximum (a reference)",
        "",
        "The same fixed-rate run against the bare ASGI app, alone on the machine after the service's runs,",
        "offered half the maximum it reached in the first table (GET: the short-link row's pair; POST, the",
        "echo of a create's body: the create row's). Not a target: what this server, generator and machine",
        "give at that pace with no app to speak of, measured like the service (its CPU likewise).",
        "",
        "| bare app | offered ½ max | its CPU at ½ max | p99 at ½ max | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, key in (("GET (a fixed 302)", "GET"), ("POST (an echo)", "POST")):
        lat = bare_fixed[key]
        cpu = cpu_cell(lat)
        lines.append(f"| {label} | {lat.rate:,.0f}/s ({lat.achieved:,.0f} answered) | {cpu} | {lat.p99_ms:.1f} ms "
                     f"| {lat.errors} |")
    lines.append("")
    return lines


def scale_table(scale: list[ScaleRow], results: dict[str, tuple[Result, Result]]) -> list[str]:
    """PostgreSQL against SQLite and 2 workers against 1, from the same run (SPEC §7)."""
    by = {row.label: row.results for row in scale}
    sqlite1 = by.get("SQLite, 1 worker")
    pg1 = by.get("PostgreSQL, 1 worker (beside 2 workers)") or by.get("PostgreSQL, 1 worker")
    lines = [
        "## PostgreSQL, workers and instances (SPEC §7 scale, §13)",
        "",
        "Same run, same generator; `serve` with `--workers N` on a fresh database each (SQLite in a temporary",
        "folder; PostgreSQL 15 on this machine, a database of the bench's own). The setups compared run side",
        "by side (idle but the one under load) and are loaded in turn, endpoint by endpoint. Ratios: PostgreSQL",
        "against SQLite with one worker (measured beside it), 2 workers or instances against PostgreSQL with one",
        "worker (measured beside the 2 workers); errors are non-2xx/3xx answers plus socket errors. The bare",
        "baseline is the first table's.",
        "",
        "| setup | short link req/s | create session req/s | `anonymous` token req/s | p99 (short / session / token) "
        "| ratio | target | errors | verdict |",
        "|---|---:|---:|---:|---|---|---|---:|---|",
    ]
    bare_get = results["short"][1].rps
    lines.append(f"| bare ASGI app, 1 worker (baseline) | {bare_get:,.0f} | {results['session'][1].rps:,.0f} (echo) "
                 f"| {results['anonymous'][1].rps:,.0f} (echo) | | | | | |")
    for row in scale:
        r = row.results
        errors = sum(r[k].errors for k in SCALE_KEYS)
        p99 = " / ".join(f"{r[k].p99_ms:.0f}" for k in SCALE_KEYS) + " ms"
        ratio, target, ok = "", "", errors == 0
        if row.label == "PostgreSQL, 1 worker" and sqlite1:
            ratios = [r[k].rps / sqlite1[k].rps for k in SCALE_KEYS]
            ratio = " / ".join(f"{x:.2f}" for x in ratios) + " × SQLite"
            target = "≥ 0.5 each"
            ok = ok and min(ratios) >= 0.5
        elif row.label.startswith("PostgreSQL, 2") and pg1:
            ratios = [r[k].rps / pg1[k].rps for k in SCALE_KEYS]
            ratio = " / ".join(f"{x:.2f}" for x in ratios) + " × 1 worker"
            if row.label == "PostgreSQL, 2 workers":
                target = "short ≥ 1.3"
                ok = ok and ratios[0] >= 1.3
        elif row.label == "SQLite, 2 workers" and sqlite1:
            ratio = " / ".join(f"{r[k].rps / sqlite1[k].rps:.2f}" for k in SCALE_KEYS) + " × 1 worker"
        verdict = ("meets" if ok else "MISSES") if target or errors else ""
        lines.append(f"| {row.label} | {r['short'].rps:,.0f} | {r['session'].rps:,.0f} | {r['anonymous'].rps:,.0f} "
                     f"| {p99} | {ratio} | {target} | {errors} | {verdict} |")
    lines.append("")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
