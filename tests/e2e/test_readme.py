"""The README's quick start, exactly as printed: ``headless-redirects serve`` in a real process, its
``export`` lines pasted into a shell that then runs the curl snippet, and the JavaScript snippet run
by Node with the official SDK, both against the served API."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live import free_port, stop_within, wait_up

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NODE_MODULES = ROOT / "tests" / "compat" / "node_modules"


def quick_start() -> dict[str, str]:
    """The Quick start section's code blocks by language (each language appears once)."""
    text = README.read_text()
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, str] = {}
    for lang, body in re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S):
        assert lang not in blocks, f"two {lang} blocks in the quick start"
        blocks[lang] = body
    assert set(blocks) == {"text", "sh", "json", "js"}
    return blocks


@dataclass
class Served:
    url: str
    printed: str
    exports: str
    folder: Path

    def env(self) -> dict[str, str]:
        """The environment of a shell in which the reader pasted the ``export`` lines."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
        done = subprocess.run(["bash", "-c", f"{self.exports}\nenv -0"], env=base, capture_output=True,
                              text=True, check=True)
        return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("readme")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    # The README's serve, on a free port; run in a fresh folder, its default database lands there.
    proc = subprocess.Popen([sys.executable, "-m", "headless_redirects.cli", "serve", "--port", str(port)],
                            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        lines = []
        while not lines or not lines[-1].startswith("Serving on"):
            line = proc.stdout.readline()
            assert line, f"serve stopped before serving: {''.join(lines)}"
            lines.append(line)
        url = f"http://127.0.0.1:{port}"
        wait_up(url, proc=proc)
        printed = "".join(lines)
        exports = "\n".join(line.strip() for line in lines if line.strip().startswith("export "))
        yield Served(url, printed, exports, folder)
    finally:
        stop_within(proc)
        proc.stdout.close()


def _shape(text: str) -> list[str]:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    text = re.sub(r"hrk_[\w-]+", "<key>", text)
    text = re.sub(r"http://127\.0\.0\.1:\d+", "<url>", text)
    text = re.sub(r"sqlite:///[^)\s]+", "<db>", text)
    return [line.rstrip() for line in text.strip().splitlines()]


def test_serve_prints_what_the_readme_shows(served: Served) -> None:
    assert _shape(served.printed) == _shape(quick_start()["text"])


def test_the_snippets_use_only_the_variables_serve_prints(served: Served) -> None:
    exported = set(re.findall(r"export (\w+)=", served.exports))
    blocks = quick_start()
    assert set(re.findall(r"\$\{?(\w+)", blocks["sh"])) <= exported
    assert set(re.findall(r"process\.env\.(\w+)", blocks["js"])) <= exported


def test_curl_snippet(served: Served) -> None:
    done = subprocess.run(["bash", "-c", f"{served.exports}\n{quick_start()['sh']}"], capture_output=True, text=True,
                          timeout=60, env={k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_")})
    assert done.returncode == 0, done.stderr
    session = json.loads(done.stdout)["redirectSession"]
    assert session["fullUrl"].startswith(f"{served.url}/flow/ecom-checkout?checkoutId=0fc930e0-")
    assert session["shortUrl"].startswith(f"{served.url}/r/")
    # the documented response shape
    documented = json.loads(quick_start()["json"])["redirectSession"]
    assert set(documented) <= set(session) and set(documented["urlDetails"]) <= set(session["urlDetails"])


def test_javascript_snippet_with_the_official_sdk(served: Served, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "@wix" / "sdk").is_dir():
        pytest.fail("this test needs node and `npm ci --prefix tests/compat` (the README's test command runs it)")
    # "in an empty folder, npm install @wix/sdk @wix/redirects": the test suite's installed copy
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    (tmp_path / "checkout.mjs").write_text(quick_start()["js"])
    done = subprocess.run([node, "checkout.mjs"], cwd=tmp_path, env=served.env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{served.url}/flow/ecom-checkout?checkoutId=0fc930e0-"), done.stdout


def _configuration() -> str:
    return README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]


def test_every_setting_is_in_the_configuration_table() -> None:
    from headless_redirects.settings import Settings

    table = _configuration()
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f"settings missing from the README's Configuration table: {sorted(missing)}"


def test_the_configuration_example_is_a_valid_file(tmp_path: Path) -> None:
    from headless_redirects.config import load

    example = re.search(r"```toml\n(.*?)```", _configuration(), flags=re.S)
    assert example is not None
    (tmp_path / "hr.toml").write_text(example.group(1))
    assert load(config_file=str(tmp_path / "hr.toml")).settings.trusted_proxies == "127.0.0.1"


def test_the_command_line_synopsis_names_every_command() -> None:
    import argparse

    from headless_redirects.cli import build_parser

    section = README.read_text().split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    synopsis = re.search(r"```text\n(.*?)```", section, flags=re.S)
    assert synopsis is not None
    named = set()
    for line in synopsis.group(1).splitlines():
        for part in line.removeprefix("headless-redirects ").split(" | "):
            words = part.removeprefix("headless-redirects ").split()
            group = words[0]
            subs = words[1] if len(words) > 1 and not words[1].startswith(("-", "[")) else ""
            for sub in subs.split("|") if subs and subs != "ID" else [""]:
                named.add(f"{group} {sub}".strip())

    def commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
        found = set()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found |= commands(child, f"{prefix} {name}".strip()) or {f"{prefix} {name}".strip()}
        return found

    assert commands(build_parser()) == named


def _section(title: str) -> dict[str, str]:
    text = README.read_text()
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S))


def test_python_sdk_snippet(served: Served) -> None:
    done = subprocess.run([sys.executable, "-c", _section("Python SDK and an example storefront")["python"]],
                          env=served.env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{served.url}/flow/ecom-checkout?checkoutId=0fc930e0-"), done.stdout


def test_storefront_snippet(served: Served) -> None:
    """The second terminal of the storefront instructions, from the repository's folder, on the
    database of the first terminal's serve: the storefront comes up with a webhook endpoint."""
    snippet = _section("Python SDK and an example storefront")["sh"]
    env = {**served.env(), "HEADLESS_REDIRECTS_DATABASE_URL": f"sqlite:///{served.folder}/headless-redirects.db"}
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 3000)) == 0:
            pytest.fail("port 3000, which the README's storefront uses, is taken on this machine")
    proc = subprocess.Popen(["bash", "-c", snippet], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get("http://127.0.0.1:3000/")
                break
            except httpx.TransportError:
                assert proc.poll() is None, "the snippet stopped"
                assert time.monotonic() < deadline, "the storefront did not come up"
                time.sleep(0.2)
        assert page.status_code == 200
        forged = httpx.post("http://127.0.0.1:3000/webhooks", content=b"{}", headers={"webhook-id": "msg_x"})
        assert forged.status_code == 400  # it verifies with the secret the snippet registered
        listed = subprocess.run([sys.executable, "-m", "headless_redirects.cli", "webhooks", "list", "--site-id",
                                 env["SITE_ID"], "--json"], env=env, capture_output=True, text=True, timeout=60)
        (endpoint,) = json.loads(listed.stdout)
        assert endpoint["url"] == "http://127.0.0.1:3000/webhooks"
        assert endpoint["events"] == ["redirect_session.completed"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=20)
