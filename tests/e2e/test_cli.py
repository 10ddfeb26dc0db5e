"""The command line: ``init --json`` and ``serve`` (SPEC §6), run as real processes."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import free_port, stop_within

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
        stop_within(proc)
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


@dataclass
class Cli:
    """The command line run in this process (the tests above run it as a real process): fast
    enough to check every rule."""

    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        import io

        from headless_redirects.cli import main

        self.capsys.readouterr()
        saved = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: usage errors, --help, --version
            code = int(exc.code or 0)
        finally:
            sys.stdin = saved
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def json(self, *args: str, stdin: str = "") -> Any:
        code, out, err = self(*args, "--json", stdin=stdin)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    for key in [k for k in os.environ if k.startswith("HEADLESS_REDIRECTS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HEADLESS_REDIRECTS_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    return Cli(capsys)


def test_sites_pages_and_provider(cli: Cli) -> None:
    tenant = cli.json("init")
    pages = cli.json("sites", "pages", "--site-id", tenant["siteId"], "--intent", "ecomCheckout",
                     "--path", "/my-checkout", "--published")
    assert pages == {"ecomCheckout": {"path": "/my-checkout", "published": True}}
    code, _out, err = cli("sites", "set", "--site-id", tenant["siteId"], "--flow-provider", "nope:Nothing")
    assert code == 2 and err.startswith("error: --flow-provider 'nope:Nothing'")
    assert cli.json("sites", "set", "--site-id", tenant["siteId"], "--flow-provider", "demo")["flowProvider"] == "demo"
    assert cli.json("sites", "set", "--site-id", tenant["siteId"], "--base-url", "https://shop.example.com/")[
        "baseUrl"] == "https://shop.example.com"
    assert cli("sites", "set", "--site-id", tenant["siteId"])[0] == 2  # nothing to change


def test_members_create_reads_the_password_from_stdin(cli: Cli) -> None:
    tenant = cli.json("init")
    args = ("members", "create", "--site-id", tenant["siteId"], "--email", "Ada@Example.com", "--password-stdin")
    assert cli.json(*args, stdin="a long password\n")["email"] == "ada@example.com"
    code, _out, err = cli(*args, stdin="a long password\n")
    assert code == 2 and "already exists" in err
    assert cli(*args[:-3], "--email", "b@example.com", "--password-stdin", stdin="short\n")[0] == 2
    code, out, _err = cli(*args[:-3], "--email", "c@example.com", "--password-stdin", stdin="a long password\n")
    assert code == 0 and "email: c@example.com" in out.splitlines()


def test_admin_commands(cli: Cli, tmp_path: Path) -> None:
    tenant = cli.json("init")
    site = tenant["siteId"]
    app = cli.json("apps", "create", "--site-id", site, "--allowed-domain", "Shop.Example.com",
                   "--redirect-uri", "https://shop.example.com/cb")
    assert app["allowedDomains"] == ["shop.example.com"]
    listed = cli.json("apps", "list", "--site-id", site)
    assert {a["clientId"] for a in listed} == {tenant["clientId"], app["clientId"]}
    assert cli("apps", "create", "--site-id", site, "--redirect-uri", "javascript:x")[0] == 2

    key = cli.json("keys", "create", "--site-id", site)
    assert key["apiKey"].startswith("hrk_")
    assert len(cli.json("keys", "list", "--site-id", site)) == 2
    assert cli.json("keys", "revoke", "--key-id", key["id"]) == {"id": key["id"], "revoked": True}
    assert cli("keys", "revoke", "--key-id", key["id"])[0] == 2
    revoked = next(k for k in cli.json("keys", "list", "--site-id", site) if k["id"] == key["id"])
    assert ISO.fullmatch(revoked["revokedDate"]) and ISO.fullmatch(revoked["createdDate"])
    assert cli.json("keys", "rotate-signing")["kid"]

    from starlette.testclient import TestClient

    from headless_redirects.settings import Settings
    from headless_redirects.web.app import create_app

    app_ = create_app(Settings(database_url=f"sqlite:///{tmp_path}/cli.db"))
    r = TestClient(app_).post("/_api/redirects-api/v1/redirect-session", json={"login": {}},
                              headers={"Authorization": tenant["apiKey"], "wix-site-id": site})
    session_id = r.json()["redirectSession"]["id"]
    app_.services.db.dispose()  # type: ignore[attr-defined]
    rows = cli.json("sessions", "list", "--site-id", site)
    assert [(s["id"], s["state"]) for s in rows] == [(session_id, "CREATED")]
    assert ISO.fullmatch(rows[0]["createdDate"]) and ISO.fullmatch(rows[0]["expiresDate"])
    shown = cli.json("sessions", "show", session_id)
    assert shown["intent"] == "login" and shown["siteId"] == site and ISO.fullmatch(shown["createdDate"])
    assert all(CAMEL.fullmatch(k) for k in shown), shown  # one key style: camelCase, as the API
    assert "sessionTokenHash" not in shown and "boundBrowser" not in shown
    assert cli("sessions", "show", "nope")[0] == 2
    assert cli.json("purge") == {"deleted": 0}
    # the same commands, readable: a table with a header row, or key: value lines
    table = cli("sessions", "list", "--site-id", site)[1].splitlines()
    assert table[0].split() == ["id", "intent", "state", "siteId", "createdDate", "expiresDate"]
    assert table[1].split()[:3] == [session_id, "login", "CREATED"]
    assert cli("purge")[1] == "deleted: 0\n"


ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
CAMEL = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)*")


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                              argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _commands(child, (*path, name))


def test_every_command_takes_json_and_documents_every_option() -> None:
    from headless_redirects.cli import build_parser

    commands = list(_commands(build_parser()))
    assert len(commands) >= 25
    for path, parser in commands:
        options = {o for a in parser._actions for o in a.option_strings}
        assert "--json" in options, f"{' '.join(path)} has no --json"
        assert parser.description, f"{' '.join(path)} has no description"
        for action in parser._actions:
            assert action.help, f"{' '.join(path)}: {action.option_strings or action.dest} is undocumented"


def test_version_and_help(cli: Cli) -> None:
    import importlib.metadata

    code, out, _err = cli("--version")
    assert code == 0 and out.strip() == f"headless-redirects {importlib.metadata.version('headless-redirects')}"
    code, top, _err = cli("--help")
    assert code == 0 and "The ``headless-redirects`` command" not in top  # not the module's docstring
    assert "exit codes:" in top and "  3  not ready" in top
    assert "(default: My site)" in cli("init", "--help")[1]


@pytest.mark.parametrize(("args", "needle"), [
    (["purge", "--keep-days", "-1"], "argument --keep-days: -1 is negative"),
    (["apps", "create", "--site-id", "x", "--allowed-domain", "https://shop.example.com/"],
     "is not a host or host:port; did you mean shop.example.com?"),
    (["init", "--allowed-domain", "shop.example.com/path"], "is not a host or host:port"),
    (["init", "--allowed-domain", "shop.example.com:99999"], "is not a host or host:port"),
    (["sites", "set", "--site-id", "x", "--base-url", "not a url"], "is not an absolute http(s) URL"),
    (["init", "--public-url", "ftp://example.com"], "is not an absolute http(s) URL"),
    (["sites", "pages", "--site-id", "x", "--intent", "auth"], "argument --intent"),
    (["sites", "pages", "--site-id", "x", "--intent", "login", "--path", "relative"], "not a path starting with /"),
    (["sessions", "list", "--limit", "0"], "argument --limit"),
])
def test_input_is_validated_before_anything_is_touched(cli: Cli, tmp_path: Path, args: list[str],
                                                       needle: str) -> None:
    code, out, err = cli(*args)
    assert code == 2 and needle in err and out == ""
    assert not (tmp_path / "cli.db").exists()


def test_allowed_domains_that_can_match(cli: Cli) -> None:
    tenant = cli.json("init", "--allowed-domain", "Shop.Example.com.", "--allowed-domain", "localhost:3000",
                      "--allowed-domain", "127.0.0.1")
    (app,) = cli.json("apps", "list", "--site-id", tenant["siteId"])
    assert app["allowedDomains"] == ["127.0.0.1", "localhost:3000", "shop.example.com"]


def _sigint_ignored() -> None:
    """In the child before it runs: SIGINT ignored, as a non-interactive shell starts a command in
    the background (``headless-redirects serve &`` in a script)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_serve_stops_on_sigint_from_its_start_even_when_started_with_sigint_ignored(tmp_path: Path) -> None:
    """uvicorn's handler takes SIGINT once its server starts; until then a server started with
    SIGINT ignored (in the background of a script) would lose it and run on. ``serve`` takes it
    back at once: a SIGINT right after the JSON line (before uvicorn is up) stops it."""
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port), "--json"], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=_sigint_ignored)
    try:
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())
    finally:
        stop_within(proc)
        assert proc.stdout is not None
        proc.stdout.close()


def test_serve_json_prints_one_object(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port), "--json"], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())
        assert started["publicUrl"] == f"http://127.0.0.1:{port}"
        assert set(started["developmentSite"]) == {"siteId", "clientId", "apiKey"}
    finally:
        stop_within(proc)
        assert proc.stdout is not None
        rest = proc.stdout.read()
        proc.stdout.close()
    assert rest == ""
