"""The bench's tools and the reference Node server of SPEC §7, installed by the bench itself:
wrk and h2load (Debian's ``wrk`` and ``nghttp2-client``), Node.js, and ``oidc-provider`` from
the npm registry at the version pinned in bench/oidc/package-lock.json (``npm ci``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

OIDC = Path(__file__).resolve().parent / "oidc"
OIDC_FORM = "grant_type=client_credentials&client_id=bench&client_secret=bench-secret&scope=api"


def _apt(*packages: str) -> None:
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "apt-get"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*apt, "update", "-qq"], check=True, env=env)
    subprocess.run([*apt, "install", "-y", "-qq", *packages], check=True, env=env)


def ensure_tools() -> tuple[str, str, str]:
    """wrk, h2load and node, installed when missing; oidc-provider's packages, as locked."""
    wanted = {"wrk": "wrk", "h2load": "nghttp2-client", "node": "nodejs", "npm": "npm"}
    missing = [package for binary, package in wanted.items() if shutil.which(binary) is None]
    if missing:
        _apt(*missing)
    if not (OIDC / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--prefix", str(OIDC), "--no-audit", "--no-fund", "--loglevel=error"], check=True)
    return shutil.which("wrk") or "wrk", shutil.which("h2load") or "h2load", shutil.which("node") or "node"


def oidc_version() -> str:
    import json

    return str(json.loads((OIDC / "node_modules" / "oidc-provider" / "package.json").read_text())["version"])


def oidc_command(node: str, port: int) -> list[str]:
    return [node, str(OIDC / "server.mjs"), str(port)]
