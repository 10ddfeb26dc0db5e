"""Start-up, as an operator meets it: each failure is one line on standard error and a non-zero
exit before anything is created; the configuration file and its precedence; the log lines of a
real ``serve`` (ours and uvicorn's, from every worker)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.live import free_port, wait_up

CLI = [sys.executable, "-m", "headless_redirects.cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env.update(extra)
    return env


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=60)


def one_line_error(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The command failed with ``code``, printed nothing on stdout and one line on stderr."""
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_postgresql_down(tmp_path: Path) -> None:
    done = run("serve", "--port", str(free_port()), "--database-url",
               f"postgresql://postgres@127.0.0.1:{free_port()}/test", cwd=tmp_path)
    one_line_error(done, 3, "cannot reach the database server at 127.0.0.1:", "start it")


def test_missing_postgresql_database(tmp_path: Path) -> None:
    base = os.environ.get("HEADLESS_REDIRECTS_TEST_DATABASE_URL")
    if not base:
        pytest.skip("HEADLESS_REDIRECTS_TEST_DATABASE_URL is not set: no PostgreSQL server to test against")
    url = base.rsplit("/", 1)[0] + "/hr_no_such_database"
    done = run("serve", "--port", str(free_port()), "--database-url", url, cwd=tmp_path)
    one_line_error(done, 3, "'hr_no_such_database' does not exist", "createdb hr_no_such_database")


@pytest.mark.parametrize(("url", "needle"), [
    ("sqlite:////proc/headless-redirects-test.db", "cannot write the database"),
    ("sqlite:///missing-folder/hr.db", "missing-folder of the SQLite database does not exist: create it"),
])
def test_unusable_sqlite_path(tmp_path: Path, url: str, needle: str) -> None:
    one_line_error(run("serve", "--port", str(free_port()), "--database-url", url, cwd=tmp_path), 3, needle)


def test_read_only_sqlite_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write a read-only file; /proc covers the unwritable case")
    db = tmp_path / "ro.db"
    assert run("init", "--json", "--database-url", f"sqlite:///{db}", cwd=tmp_path).returncode == 0
    db.chmod(0o444)
    one_line_error(run("serve", "--port", str(free_port()), "--database-url", f"sqlite:///{db}", cwd=tmp_path), 3,
                   "cannot write the SQLite database")


@pytest.mark.parametrize("url", ["not a url", "mongodb://db/hr"])
def test_malformed_database_url(tmp_path: Path, url: str) -> None:
    one_line_error(run("serve", "--port", str(free_port()), "--database-url", url, cwd=tmp_path), 2,
                   "sqlite:///", "postgresql://")


def test_admin_commands_report_the_database_the_same_way(tmp_path: Path) -> None:
    one_line_error(run("sessions", "list", "--database-url", f"postgresql://postgres@127.0.0.1:{free_port()}/x",
                       cwd=tmp_path), 3, "cannot reach the database server")


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_invalid_port(tmp_path: Path, port: str) -> None:
    done = run("serve", "--port", port, cwd=tmp_path)
    assert done.returncode == 2 and "argument --port" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_port_in_use_is_reported_before_anything_is_created(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run("serve", "--port", str(port), cwd=tmp_path)
    one_line_error(done, 3, f"port {port} on 127.0.0.1 is already in use", "--port")
    assert list(tmp_path.iterdir()) == []  # no database, so no development site and no API key


def test_invalid_setting_in_the_environment(tmp_path: Path) -> None:
    one_line_error(run("serve", cwd=tmp_path, HEADLESS_REDIRECTS_PORT="eighty"), 2,
                   "HEADLESS_REDIRECTS_PORT", "'eighty'")
    one_line_error(run("serve", cwd=tmp_path, HEADLESS_REDIRECTS_LOG_LEVEL="loud"), 2, "HEADLESS_REDIRECTS_LOG_LEVEL")


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://example.com", "https://example.com/?a=1"])
def test_bad_public_url(tmp_path: Path, url: str) -> None:
    one_line_error(run("serve", "--port", str(free_port()), cwd=tmp_path, HEADLESS_REDIRECTS_PUBLIC_URL=url), 2,
                   "public URL")
    assert list(tmp_path.iterdir()) == []


def test_help_shows_defaults(tmp_path: Path) -> None:
    out = run("serve", "--help", cwd=tmp_path).stdout
    assert "(default: 127.0.0.1;" in out and "(default: 8080)" in out and "(default: 1)" in out


@contextmanager
def serving(tmp_path: Path, *args: str, **env: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port), *args], cwd=tmp_path, env=_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url, proc=proc)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=30)


def test_unspecified_host_warns_with_the_fix(tmp_path: Path) -> None:
    with serving(tmp_path, "--host", "0.0.0.0") as (proc, _url):
        out, err = _stop(proc)
    assert "Serving on http://0.0.0.0:" in out
    warning = json.loads(err.splitlines()[0])  # a log line, like every other line on standard error
    assert warning["level"] == "warning" and warning["logger"] == "headless_redirects.serve"
    assert warning["message"].startswith("the public URL http://0.0.0.0:")
    assert "HEADLESS_REDIRECTS_PUBLIC_URL" in warning["message"]
    with serving(tmp_path, "--host", "0.0.0.0", HEADLESS_REDIRECTS_PUBLIC_URL="http://shop.test:9") as (proc, _url):
        out, err = _stop(proc)
    assert "Serving on http://shop.test:9 " in out and "warning" not in err


def test_every_line_of_a_served_process_is_json_with_one_access_line_per_request(tmp_path: Path) -> None:
    # trusted proxies come from the configuration file, and two workers must both honour them
    # (on SQLite, so serve also warns, in a log line, that several workers queue their writes)
    (tmp_path / "hr.toml").write_text('trusted_proxies = ["127.0.0.1"]\n')
    with serving(tmp_path, "--workers", "2", "--config", "hr.toml") as (proc, url):
        for _ in range(4):
            r = httpx.get(f"{url}/healthz", headers={"x-request-id": "edge-7", "x-forwarded-for": "203.0.113.9"})
            assert r.headers["x-wix-request-id"] == "edge-7"
        out, err = _stop(proc)
    lines = [json.loads(line) for line in err.splitlines()]  # every line, uvicorn's and warnings too, is JSON
    assert {"uvicorn.error", "headless_redirects.access", "headless_redirects.serve"} <= {e["logger"] for e in lines}
    access = [e for e in lines if e["logger"] == "headless_redirects.access" and e["request_id"] == "edge-7"]
    assert len(access) == 4
    assert {k: access[0][k] for k in ("level", "method", "route", "status", "client_ip", "message")} == {
        "level": "info", "method": "GET", "route": "/healthz", "status": 200, "client_ip": "203.0.113.9",
        "message": "GET /healthz 200"}
    assert access[0]["duration_ms"] >= 0 and access[0]["time"].endswith("Z")


def test_text_log_format(tmp_path: Path) -> None:
    with serving(tmp_path, HEADLESS_REDIRECTS_LOG_FORMAT="text") as (proc, url):
        httpx.get(f"{url}/healthz")
        _out, err = _stop(proc)
    assert "uvicorn.error  Application startup complete." in err
    assert "headless_redirects.access  GET /healthz 200  request_id=" in err
    assert not any(line.startswith("{") for line in err.splitlines())


# -- the configuration file --------------------------------------------------------------------

def test_precedence_is_file_then_environment_then_flags(tmp_path: Path) -> None:
    (tmp_path / "hr.toml").write_text(
        'database_url = "sqlite:///from-file.db"\npublic_url = "https://file.example"\nport = 1111\n'
        'LOG_LEVEL = "warning"\n')
    shown = json.loads(run("config", "--json", "--config", "hr.toml", "--database-url", "sqlite:///from-flag.db",
                           cwd=tmp_path, HEADLESS_REDIRECTS_PORT="2222",
                           HEADLESS_REDIRECTS_DATABASE_URL="sqlite:///from-env.db").stdout)
    assert shown["database_url"] == "sqlite:///from-flag.db"  # flag > environment > file
    assert shown["port"] == 2222  # environment > file
    assert shown["public_url"] == "https://file.example" and shown["log_level"] == "warning"  # file > default
    assert shown["host"] == "127.0.0.1"  # default
    # the file may also be named by the environment; the readable listing names each source
    listing = run("config", cwd=tmp_path, HEADLESS_REDIRECTS_CONFIG="hr.toml", HEADLESS_REDIRECTS_PORT="2222").stdout
    lines = listing.splitlines()
    assert lines[0] == "configuration file: hr.toml" and lines[1].split() == ["setting", "value", "from"]
    rows = {line.split()[0]: line.split()[-1] for line in lines[2:]}
    assert rows["port"] == "environment" and rows["public_url"] == "file" and rows["host"] == "default"


def test_serve_flags_beat_the_environment_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "hr.toml").write_text("port = 1\n")
    with serving(tmp_path, "--config", "hr.toml", HEADLESS_REDIRECTS_PORT="2") as (proc, url):
        out, _err = _stop(proc)
    assert f"Serving on {url} " in out


def test_config_masks_secrets(tmp_path: Path) -> None:
    shown = json.loads(run("config", "--json", cwd=tmp_path,
                           HEADLESS_REDIRECTS_DATABASE_URL="postgresql://hr:s3cret@db.internal/hr").stdout)
    assert shown["database_url"] == "postgresql://hr:***@db.internal/hr"
    assert "s3cret" not in run("config", cwd=tmp_path,
                               HEADLESS_REDIRECTS_DATABASE_URL="postgresql://hr:s3cret@db.internal/hr").stdout
    shown = json.loads(run("config", "--json", cwd=tmp_path, HEADLESS_REDIRECTS_SMTP_URL="smtp://me:pw@mail:587").stdout)
    assert shown["smtp_url"] == "smtp://me:***@mail:587"


@pytest.mark.parametrize(("text", "needle"), [
    ("databse_url = 'sqlite:///x.db'\n", "unknown setting 'databse_url'"),
    ("port = \n", "not valid TOML"),
    ("port = 'eighty'\n", "port in hr.toml"),
])
def test_bad_configuration_file(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "hr.toml").write_text(text)
    one_line_error(run("serve", "--config", "hr.toml", cwd=tmp_path), 2, needle)


def test_missing_configuration_file(tmp_path: Path) -> None:
    one_line_error(run("config", "--config", "nope.toml", cwd=tmp_path), 2, "cannot read the configuration file")
