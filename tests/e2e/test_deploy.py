"""deploy/: HAProxy with deploy/haproxy.cfg in front of two ``serve`` instances on one database
(real processes): traffic reaches both, the proxy's request id replaces the client's and reaches
the instances' logs, and a SIGKILLed instance costs clients nothing. The systemd units and the
example configuration file are checked against the command line they drive."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from headless_redirects.cli import build_parser
from headless_redirects.config import load
from tests.live import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CLI = [sys.executable, "-m", "headless_redirects.cli"]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _haproxy() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if found is None:
        pytest.fail("HAProxy is missing: `apt-get install haproxy` (the README's test command installs it)")
    return found


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{url} did not come up"
        time.sleep(0.1)


@contextmanager
def process(args: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        stop_process(proc)


def test_two_instances_behind_haproxy(database_url: str, tmp_path: Path) -> None:
    front, ports = free_port(), [free_port(), free_port()]
    public = f"http://127.0.0.1:{front}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env.update(HEADLESS_REDIRECTS_DATABASE_URL=database_url, HEADLESS_REDIRECTS_PUBLIC_URL=public,
               HEADLESS_REDIRECTS_TRUSTED_PROXIES="127.0.0.1", HR_LISTEN=f"127.0.0.1:{front}",
               HR_INSTANCE_1=f"127.0.0.1:{ports[0]}", HR_INSTANCE_2=f"127.0.0.1:{ports[1]}")
    tenant = json.loads(subprocess.run([*CLI, "init", "--json"], env=env, capture_output=True, text=True,
                                       check=True, timeout=60).stdout)
    logs = [tmp_path / "hr1.log", tmp_path / "hr2.log"]
    with ExitStack() as stack:
        instances = []
        for port, log in zip(ports, logs, strict=True):
            proc = stack.enter_context(process([*CLI, "serve", "--port", str(port)], log, env))
            _wait(f"http://127.0.0.1:{port}/readyz", proc, log)
            instances.append(proc)
        proxy = stack.enter_context(process([_haproxy(), "-db", "-f", str(DEPLOY / "haproxy.cfg")],
                                            tmp_path / "haproxy.log", env))
        _wait(f"{public}/readyz", proxy, tmp_path / "haproxy.log")
        time.sleep(1.2)  # both servers pass their health checks (rise 2, every 500 ms)

        with httpx.Client(base_url=public, timeout=10) as client:
            def create() -> httpx.Response:
                return client.post("/_api/redirects-api/v1/redirect-session",
                                   json={"login": {}, "callbacks": {"postFlowUrl": "http://localhost:3000/"}},
                                   headers={"Authorization": tenant["apiKey"], "wix-site-id": tenant["siteId"],
                                            "x-request-id": "forged-by-the-client"})

            r = create()
            assert r.status_code == 200, r.text
            assert r.json()["redirectSession"]["fullUrl"].startswith(f"{public}/flow/login?")
            # the proxy's id, not the client's, is the request id
            assert UUID.fullmatch(r.headers["x-wix-request-id"])
            for _ in range(6):
                assert client.get("/healthz").status_code == 200

            instances[0].send_signal(signal.SIGKILL)
            instances[0].wait(10)
            # a refused connection is retried on the other instance: no client sees a failure
            statuses = [create().status_code for _ in range(20)]
            assert statuses == [200] * 20

    for log in logs:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        # (the health checks, /readyz, come from the proxy itself with no forwarded headers)
        access = [e for e in lines if e["logger"] == "headless_redirects.access" and e["route"] != "/readyz"]
        assert access, f"{log.name} served nothing"  # the balancer used both
        assert all(UUID.fullmatch(e["request_id"]) and e["client_ip"] == "127.0.0.1" for e in access)


def _units() -> dict[str, configparser.ConfigParser]:
    units = {}
    for path in DEPLOY.glob("*.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(path)
        units[path.name] = parser
    assert set(units) == {"headless-redirects@.service", "headless-redirects-purge.service"}
    return units


def test_systemd_units_run_commands_the_cli_accepts() -> None:
    for name, unit in _units().items():
        argv = shlex.split(unit["Service"]["ExecStart"].replace("%i", "8081"))
        assert argv[0].endswith("/bin/headless-redirects"), name
        args = build_parser().parse_args(argv[1:])
        assert args.config == "/etc/headless-redirects/config.toml", name
    timer = configparser.ConfigParser(interpolation=None)
    timer.read(DEPLOY / "headless-redirects-purge.timer")
    assert timer["Timer"]["OnCalendar"] == "daily"


def test_the_example_configuration_file_is_valid() -> None:
    settings = load(config_file=str(DEPLOY / "config.toml")).settings
    assert settings.public_url == "https://login.example.com" and settings.trusted_proxies == "127.0.0.1"


def test_haproxy_configuration_is_valid() -> None:
    done = subprocess.run([_haproxy(), "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
