"""A real uvicorn server on a free loopback port, in a thread (as httpx's tests do)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from headless_redirects.service.tenancy import NewTenant, create_tenant
from headless_redirects.settings import Settings
from headless_redirects.web.app import create_app
from headless_redirects.web.services import Services


def wait_up(url: str, path: str = "/readyz", proc: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None,
            timeout: float = 30) -> None:
    """Wait until a server answers ``path`` with 200 (a process, if given, must stay alive)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + path).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc is None or proc.poll() is None, "the server process stopped"
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.1)


@dataclass
class ServeProcess:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    tenant: dict[str, Any]  # `init --json`: the site made for the test


@contextmanager
def serve_process(database: Path, **extra_env: str) -> Iterator[ServeProcess]:
    """`headless-redirects serve` on the SQLite file ``database`` (with a site made by `init`), on a
    free loopback port, up once it answers; stopped (SIGINT, else killed) at the end."""
    cli = [sys.executable, "-m", "headless_redirects.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env.update(extra_env, HEADLESS_REDIRECTS_DATABASE_URL=f"sqlite:///{database}")
    port = free_port()
    url = env["HEADLESS_REDIRECTS_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    tenant = json.loads(subprocess.run([*cli, "init", "--json", "--allowed-domain", "shop.example.com"], env=env,
                                       capture_output=True, text=True, check=True).stdout)
    proc = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(url, proc=proc)
        yield ServeProcess(url, port, proc, tenant)
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server process as Ctrl-C does (SIGINT), and kill it if it has not ended in 20 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def stop_within(proc: subprocess.Popen[str] | subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    """SIGINT, and the process must end within ``seconds`` (``TimeoutExpired`` otherwise, which
    fails the test); one that does not is killed all the same, so that no test leaves a server
    running behind it."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(seconds)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def children_running(parent: int, marker: bytes) -> list[int]:
    """The pids of ``parent``'s child processes whose command line holds ``marker`` (not ended)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == parent and fields[0] != "Z" and marker in command:
            found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    url: str
    services: Services
    tenant: NewTenant


@contextmanager
def live_server(database_url: str, *, redirect_uris: list[str] | None = None,
                allowed_domains: list[str] | None = None, **settings: Any) -> Iterator[Live]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database_url=database_url, public_url=url, **settings))
    services: Services = app.services  # type: ignore[attr-defined]
    tenant = create_tenant(services.store, name="Live shop", public_url=None,
                           allowed_domains=allowed_domains or ["localhost", "127.0.0.1", "shop.example.com"],
                           redirect_uris=redirect_uris or ["http://127.0.0.1:3000/callback"])
    with serve_in_thread(app, port):
        try:
            yield Live(url, services, tenant)
        finally:
            services.db.dispose()


@contextmanager
def serve_in_thread(app: Any, port: int) -> Iterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)
