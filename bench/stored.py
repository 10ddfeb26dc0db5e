"""SPEC §7's flatness targets: throughput from 10 k to 1 M stored sessions, and the worker's
memory under sustained load.

    python bench/stored.py [--small 10000] [--large 1000000] [--rounds 3] [--duration 4] [--soak 60]

Two ``serve`` processes run side by side on SQLite databases of their own, one holding
``--small`` sessions, the other ``--large``; they are loaded in turn, ``--rounds`` pairs per
endpoint, so that the machine's drift weighs on both alike, and the ratio (large ÷ small) is the
median of the pairs'. The short links are drawn at random, on every request, from up to 100,000
sessions spread over the whole table (every stored session of the small one), so that the
large database's pages are read as a real site's would be, not one hot row. The stored sessions
are copies of one made through the API, each with an id, URL, session token digest and
timestamps of its own, live for the whole run (``fill``).

Then the large database's server is loaded for ``--soak`` seconds with create session and
``anonymous`` tokens at once, and its resident memory is read every second: a leak of a few
bytes a request shows as a slope. Traffic goes to 127.0.0.1 only; every run is bounded; every
process started is stopped. ``HEADLESS_REDIRECTS_SQLITE_READ_MMAP_MIB`` is handed to both servers
(``0``: the hot path's reads without a mapping); no other setting of the environment is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import free_port, init_tenant, post_json, process, wrk_counts  # noqa: E402
from bench.served import SESSION_BODY, post_lua  # noqa: E402

SESSION_PATH = "/_api/redirects-api/v1/redirect-session"
SAMPLE = 100_000  # the most short links the generator draws from
KEYS = ("short", "session")


def fill(db: Path, template_id: str, count: int, *, per_second: int = 1000, batch: int = 20_000) -> None:
    """Store ``count`` more sessions like ``template_id``: each a new time-ordered id (as the
    service makes them), its own full URL (the template's, with the id replaced), a session
    token digest of its own, and a creation time spread back from the template's at
    ``per_second`` a second with the template's lifetime, so that every one is live."""
    from headless_redirects.domain.sessions import new_session_id

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        columns = [row[1] for row in conn.execute("PRAGMA table_info(redirect_sessions)")]
        created, expires = conn.execute("SELECT created_at, expires_at FROM redirect_sessions WHERE id = ?",
                                        (template_id,)).fetchone()
        made = {"id": ":id", "full_url": "replace(full_url, :template, :id)", "created_at": ":created",
                "expires_at": ":created + :lifetime", "session_token_hash": "lower(hex(randomblob(32)))"}
        sql = (f"INSERT INTO redirect_sessions ({', '.join(columns)}) "
               f"SELECT {', '.join(made.get(c, c) for c in columns)} FROM redirect_sessions WHERE id = :template")
        lifetime = expires - created
        done = 0
        while done < count:
            n = min(batch, count - done)
            rows = []
            for left in range(count - done, count - done - n, -1):  # sessions still to make, this one too
                at = created - left // per_second
                # Within its second, spread in order: the ids are as time-ordered as the times.
                ms = at * 1000 + (per_second - 1 - left % per_second) * 1000 // per_second
                rows.append({"id": new_session_id(ms), "template": template_id, "created": at, "lifetime": lifetime})
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
            done += n
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def sample_codes(db: Path, most: int = SAMPLE) -> list[str]:
    """Short-link codes of up to ``most`` sessions, evenly spread over the whole table."""
    from headless_redirects.domain.sessions import short_code

    conn = sqlite3.connect(db)
    try:
        (count,) = conn.execute("SELECT count(*) FROM redirect_sessions").fetchone()
        step = max(1, count // most)
        ids = [r[0] for r in conn.execute("SELECT id FROM redirect_sessions WHERE rowid % ? = 0", (step,))]
    finally:
        conn.close()
    return [short_code(i) for i in ids[:most]]


def short_links_lua(codes_file: Path) -> str:
    """A wrk script that asks for a short link drawn at random from ``codes_file`` (one a line)."""
    return (f"local codes = {{}}\nfor line in io.lines({json.dumps(str(codes_file))}) do codes[#codes + 1] = line end\n"
            "math.randomseed(os.time())\n"
            "request = function()\n  return wrk.format(\"GET\", \"/r/\" .. codes[math.random(#codes)])\nend\n")


@dataclass
class Served:
    """A ``serve`` of its own database, with what it takes to load it."""

    name: str
    db: Path
    env: dict[str, str]
    port: int
    access: str
    token_body: dict[str, str]
    codes_file: Path
    stored: int = 0  # sessions in the database before the runs
    rps: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lua(self, key: str) -> str:
        if key == "short":
            return short_links_lua(self.codes_file)
        if key == "session":
            return post_lua(SESSION_BODY, {"Authorization": self.access, "Content-Type": "application/json"})
        return post_lua(self.token_body, {"Content-Type": "application/json"})

    def path(self, key: str) -> str:
        return {"short": "/", "session": SESSION_PATH}.get(key, "/oauth2/token")


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "headless_redirects.cli", "serve", "--host", "127.0.0.1", "--workers", "1",
            "--port", str(port)]


def prepare(tmp: Path, name: str, sessions: int, env: dict[str, str]) -> Served:
    """A database with a tenant and ``sessions`` stored sessions (one made through the API, the
    rest copies of it: ``fill``), and the codes to draw short links from."""
    db = tmp / f"{name}.db"
    port = free_port()
    env = {**env, "HEADLESS_REDIRECTS_DATABASE_URL": f"sqlite:///{db}",
           "HEADLESS_REDIRECTS_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    tenant = init_tenant(env, redirect_uri=False)
    token_body = {"clientId": tenant["clientId"], "grantType": "anonymous"}
    url = f"http://127.0.0.1:{port}"
    with process(serve_command(port), env, f"{url}/healthz"):
        access = str(post_json(f"{url}/oauth2/token", token_body)["access_token"])
        body: dict[str, object] = {**SESSION_BODY}
        template = post_json(url + SESSION_PATH, body, {"Authorization": access})["redirectSession"]
    fill(db, str(template["id"]), sessions - 1)  # type: ignore[index]
    codes_file = tmp / f"{name}-codes.txt"
    codes_file.write_text("\n".join(sample_codes(db)) + "\n")
    return Served(name, db, env, port, access, token_body, codes_file, stored=sessions)


def wrk_run(binary: str, served: Served, key: str, seconds: float, connections: int) -> tuple[float, int]:
    """req/s and errors (non-2xx/3xx answers and socket errors) of one wrk run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(served.lua(key))
    try:
        out = subprocess.run([binary, "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", script.name,
                              served.url + served.path(key)], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    return wrk_counts(out)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Soak:
    seconds: int
    requests: int
    errors: int
    samples: list[tuple[float, int]]  # (seconds since the start, the worker's RSS in bytes)
    settle: float  # samples before this many seconds are the warm-up

    def rss_at(self, second: float) -> int:
        return min(self.samples, key=lambda s: abs(s[0] - second))[1]

    def slope(self) -> float:
        """The RSS's least-squares growth after the warm-up, in bytes a second."""
        points = [(t, r) for t, r in self.samples if t >= self.settle]
        if len(points) < 2:
            return 0.0
        return statistics.linear_regression([t for t, _ in points], [float(r) for _, r in points]).slope

    def bytes_per_request(self) -> float:
        return self.slope() * self.seconds / max(1, self.requests)

    def halves(self) -> tuple[int, int]:
        """The largest RSS in the first and in the second half of the time after the warm-up."""
        middle = (self.settle + self.seconds) / 2
        first = [r for t, r in self.samples if self.settle <= t < middle]
        second = [r for t, r in self.samples if t >= middle]
        return max(first), max(second)

    def bounded(self) -> bool:
        """Whether the second half grew less than 2 MiB or 2 % over the first (a leak of 20 bytes a
        request, at the few thousand a second of these runs, shows as more than that)."""
        first, second = self.halves()
        return second - first <= max(2 << 20, first // 50)


def soak(binary: str, served: Served, pid: int, seconds: int) -> Soak:
    """``seconds`` of create session and ``anonymous`` tokens at once (32 connections each), with
    the worker's RSS read every second."""
    samples: list[tuple[float, int]] = []
    results: dict[str, tuple[float, int]] = {}
    start = time.monotonic()

    def load(key: str) -> None:
        results[key] = wrk_run(binary, served, key, seconds, 32)

    threads = [threading.Thread(target=load, args=(key,)) for key in ("session", "anonymous")]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        samples.append((time.monotonic() - start, rss_bytes(pid)))
        time.sleep(1.0)
    for t in threads:
        t.join()
    requests = sum(round(rps * seconds) for rps, _ in results.values())
    return Soak(seconds, requests, sum(e for _, e in results.values()), samples, settle=min(10.0, seconds / 3))


@dataclass
class Flatness:
    small: Served
    large: Served
    ratios: dict[str, list[float]]
    soak: Soak
    fill_seconds: float
    large_bytes: int

    def ratio(self, key: str) -> float:
        return statistics.median(self.ratios[key])

    def flat(self, key: str) -> bool:
        return abs(self.ratio(key) - 1.0) <= 0.10


def measure(binary: str, env: dict[str, str], *, small: int, large: int, rounds: int, duration: float,
            soak_seconds: int, connections: int = 64) -> Flatness:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.monotonic()
        few = prepare(tmp, "small", small, env)
        many = prepare(tmp, "large", large, env)
        fill_seconds = time.monotonic() - started
        large_bytes = many.db.stat().st_size
        ratios: dict[str, list[float]] = {key: [] for key in KEYS}
        with contextlib.ExitStack() as stack:
            procs = {s.name: stack.enter_context(process(serve_command(s.port), s.env, f"{s.url}/healthz"))
                     for s in (few, many)}
            for key in KEYS:
                for s in (few, many):
                    wrk_run(binary, s, key, 2, connections)  # warm-up
                    s.rps[key] = []
                for _ in range(rounds):
                    for s in (few, many):
                        rps, errors = wrk_run(binary, s, key, duration, connections)
                        s.rps[key].append(rps)
                        s.errors += errors
                    ratios[key].append(many.rps[key][-1] / few.rps[key][-1])
            soaked = soak(binary, many, procs["large"].pid, soak_seconds)
        return Flatness(few, many, ratios, soaked, fill_seconds, large_bytes)


def report(result: Flatness, *, rounds: int, duration: float) -> list[str]:
    """The Markdown section of ``docs/benchmarks.md``."""
    few, many, s = result.small, result.large, result.soak
    labels = {"short": "short link, drawn at random", "session": "create session"}
    lines = [
        "## Stored sessions and worker memory (SPEC §7 flatness)",
        "",
        f"`bench/stored.py`, in the same run: two `serve` processes (1 worker each, SQLite) side by side, one on "
        f"a database of {few.stored:,} stored sessions, the other of {many.stored:,} "
        f"({result.large_bytes / 2**20:,.0f} MiB; both made in {result.fill_seconds:.0f} s: one session made "
        f"through the API, the rest copies of it with ids, URLs, token digests and times of their own, all live), "
        f"loaded in turn, {rounds} pairs of {duration:g} s per endpoint (wrk, 64 connections, after 2 s of "
        f"warm-up each). Each short link is drawn at random from up to {SAMPLE:,} sessions spread over the whole "
        f"table. Ratio: the median of the pairs' (large ÷ small); SPEC §7 asks it to stay within ±10 %. "
        f"Create session adds to both databases as it runs.",
        "",
        f"| endpoint | {few.stored:,} stored (req/s, per pair) | {many.stored:,} stored (req/s, per pair) "
        "| ratio (median) | target | verdict |",
        "|---|---|---|---:|---|---|",
    ]
    for key in KEYS:
        lines.append(
            f"| {labels[key]} | {' / '.join(f'{x:,.0f}' for x in few.rps[key])} "
            f"| {' / '.join(f'{x:,.0f}' for x in many.rps[key])} | {result.ratio(key):.2f} | 1.00 ± 0.10 "
            f"| {'meets' if result.flat(key) else 'MISSES'} |")
    lines += [
        "",
        f"Errors (non-2xx/3xx answers and socket errors): {few.errors} with {few.stored:,} stored, "
        f"{many.errors} with {many.stored:,}.",
        "",
        f"Then the server on {many.stored:,} sessions took create session and `anonymous` tokens at once for "
        f"{s.seconds} s (two wrk, 32 connections each: {s.requests:,} requests, {s.errors} errors), its resident "
        f"memory (`VmRSS`) read every second; the first {s.settle:g} s are its warm-up.",
        "",
        "| RSS at | MiB |",
        "|---|---:|",
    ]
    marks = sorted({round(s.settle), *range(0, s.seconds + 1, max(10, s.seconds // 6))} - {0})
    lines += [f"| {t} s | {s.rss_at(t) / 2**20:.1f} |" for t in marks if t <= s.seconds]
    first, second = s.halves()
    lines += [
        "",
        f"Largest RSS in the first and second halves after the warm-up: {first / 2**20:.1f} and "
        f"{second / 2**20:.1f} MiB; growth after the warm-up {s.slope() / 1024:+.1f} KiB/s, "
        f"{s.bytes_per_request():+.2f} bytes a request (least squares). Bounded (the second half within "
        f"2 MiB or 2 % of the first): **{'meets' if s.bounded() else 'MISSES'}**.",
        "",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--soak", type=int, default=60)
    args = parser.parse_args()
    from bench.peers import ensure_tools

    binary = ensure_tools()[0]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEADLESS_REDIRECTS_") or k == "HEADLESS_REDIRECTS_SQLITE_READ_MMAP_MIB"}
    result = measure(binary, env, small=args.small, large=args.large, rounds=args.rounds, duration=args.duration,
                     soak_seconds=args.soak)
    print("\n".join(report(result, rounds=args.rounds, duration=args.duration)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
