"""The command line: ``init --json`` and ``serve`` (SPEC §6), run as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.live import free_port

CLI = [sys.executable, "-m", "headless_redirects.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env["HEADLESS_REDIRECTS_DATABASE_URL"] = f"sqlite:///{tmp_path}/cli.db"
    return env


def test_init_json_prints_one_object_and_nothing_else(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CLI, "init", "--json", "--name", "Shop", "--allowed-domain", "shop.example.com",
         "--redirect-uri", "https://shop.example.com/callback"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=60, check=True,
    )
    out = json.loads(done.stdout)
    assert set(out) == {"siteId", "clientId", "apiKey"}
    assert done.stdout.strip().count("\n") == 0


def test_init_refuses_a_bad_redirect_uri(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "init", "--json", "--redirect-uri", "javascript:alert(1)"],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == "" and "redirect URI" in done.stderr


def test_serve_creates_a_dev_site_and_serves_it(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.1)
        # the printed credentials work against the served API
        r = httpx.post(f"{base}/oauth2/token", json={"grantType": "anonymous", "clientId": _printed(proc, "CLIENT_ID")})
        assert r.status_code == 200
        r = httpx.post(f"{base}/_api/redirects-api/v1/redirect-session",
                       json={"login": {}, "callbacks": {"postFlowUrl": "http://localhost:3000/"}},
                       headers={"Authorization": _printed(proc, "API_KEY"), "wix-site-id": _printed(proc, "SITE_ID")})
        assert r.status_code == 200, r.text
        assert r.json()["redirectSession"]["fullUrl"].startswith(f"{base}/flow/login?")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
        assert proc.stdout is not None
        proc.stdout.close()


_lines: dict[int, list[str]] = {}


def _printed(proc: subprocess.Popen[str], name: str) -> str:
    """The value of the ``export NAME=value`` line serve printed."""
    lines = _lines.setdefault(proc.pid, [])
    prefix = f"export {name}="
    while not any(line.strip().startswith(prefix) for line in lines):
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"serve never printed {name}"
        lines.append(line)
    line = next(line for line in lines if line.strip().startswith(prefix))
    return line.strip().removeprefix(prefix).split()[0]


def test_sites_pages_and_provider(tmp_path: Path) -> None:
    env = _env(tmp_path)
    tenant = json.loads(subprocess.run([*CLI, "init", "--json"], env=env, capture_output=True, text=True,
                                       check=True).stdout)
    done = subprocess.run([*CLI, "sites", "pages", "--site-id", tenant["siteId"], "--intent", "ecomCheckout",
                           "--path", "/my-checkout", "--published"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout) == {"ecomCheckout": {"path": "/my-checkout",
                                                                                  "published": True}}
    bad = subprocess.run([*CLI, "sites", "set", "--site-id", tenant["siteId"], "--flow-provider", "nope:Nothing"],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    ok = subprocess.run([*CLI, "sites", "set", "--site-id", tenant["siteId"], "--flow-provider", "demo"],
                        env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_members_create_reads_the_password_from_stdin(tmp_path: Path) -> None:
    env = _env(tmp_path)
    tenant = json.loads(subprocess.run([*CLI, "init", "--json"], env=env, capture_output=True, text=True,
                                       check=True).stdout)
    args = [*CLI, "members", "create", "--site-id", tenant["siteId"], "--email", "Ada@Example.com", "--password-stdin"]
    done = subprocess.run(args, env=env, input="a long password\n", capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)["email"] == "ada@example.com"
    again = subprocess.run(args, env=env, input="a long password\n", capture_output=True, text=True)
    assert again.returncode == 2 and "already exists" in again.stderr
    short = subprocess.run([*args[:-3], "--email", "b@example.com", "--password-stdin"], env=env, input="short\n",
                           capture_output=True, text=True)
    assert short.returncode == 2


def test_admin_commands(tmp_path: Path) -> None:
    env = _env(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)

    tenant = json.loads(run("init", "--json").stdout)
    site = tenant["siteId"]
    app = json.loads(run("apps", "create", "--site-id", site, "--allowed-domain", "Shop.Example.com",
                         "--redirect-uri", "https://shop.example.com/cb").stdout)
    listed = [json.loads(line) for line in run("apps", "list", "--site-id", site).stdout.splitlines()]
    assert {a["clientId"] for a in listed} == {tenant["clientId"], app["clientId"]}
    assert run("apps", "create", "--site-id", site, "--redirect-uri", "javascript:x").returncode == 2

    key = json.loads(run("keys", "create", "--site-id", site).stdout)
    assert key["apiKey"].startswith("hrk_")
    assert len(run("keys", "list", "--site-id", site).stdout.splitlines()) == 2
    assert run("keys", "revoke", "--key-id", key["id"]).returncode == 0
    assert run("keys", "revoke", "--key-id", key["id"]).returncode == 2
    assert "revoked\": true" in run("keys", "list", "--site-id", site).stdout
    assert json.loads(run("keys", "rotate-signing").stdout)["kid"]

    from starlette.testclient import TestClient

    from headless_redirects.settings import Settings
    from headless_redirects.web.app import create_app

    app_ = create_app(Settings(database_url=env["HEADLESS_REDIRECTS_DATABASE_URL"]))
    r = TestClient(app_).post("/_api/redirects-api/v1/redirect-session", json={"login": {}},
                              headers={"Authorization": tenant["apiKey"], "wix-site-id": site})
    session_id = r.json()["redirectSession"]["id"]
    app_.services.db.dispose()  # type: ignore[attr-defined]
    rows = [json.loads(line) for line in run("sessions", "list", "--site-id", site).stdout.splitlines()]
    assert [(s["id"], s["state"]) for s in rows] == [(session_id, "CREATED")]
    shown = json.loads(run("sessions", "show", session_id).stdout)
    assert shown["intent"] == "login" and "session_token_hash" not in shown
    assert json.loads(run("purge").stdout) == {"deleted": 0}
