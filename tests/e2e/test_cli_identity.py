"""The identity administration commands (SPEC §11) as real processes: registration policy,
members list/approve/block/delete, mail list, app origins, key scopes — each with --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.live import live_server

CLI = [sys.executable, "-m", "headless_redirects.cli"]


def cli(db: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env["HEADLESS_REDIRECTS_DATABASE_URL"] = db
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=check)


def as_json(db: str, *args: str) -> Any:
    return json.loads(cli(db, *args, "--json").stdout)


def test_policy_and_member_administration_against_a_live_server(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/admin.db"
    with live_server(db, tenant_cache_seconds=0) as live:
        site = live.tenant.site_id
        assert cli(db, "sites", "set", "--site-id", site, "--registration", "approval").returncode == 0
        visitor = httpx.post(f"{live.url}/oauth2/token", json={"clientId": live.tenant.client_id,
                                                               "grantType": "anonymous"}).json()["access_token"]

        def login() -> httpx.Response:
            return httpx.post(f"{live.url}/_api/iam/authentication/v2/login",
                              json={"loginId": {"email": "ann@example.com"}, "password": "long enough"},
                              headers={"Authorization": visitor})

        r = httpx.post(f"{live.url}/_api/iam/authentication/v2/register",
                       json={"loginId": {"email": "ann@example.com"}, "password": "long enough"},
                       headers={"Authorization": visitor})
        assert r.json()["state"] == "REQUIRE_OWNER_APPROVAL"
        (member,) = as_json(db, "members", "list", "--site-id", site, "--status", "PENDING")
        assert member["email"] == "ann@example.com" and member["createdDate"].endswith("Z")
        assert as_json(db, "members", "approve", "--member-id", member["id"])["status"] == "APPROVED"
        assert login().json()["state"] == "SUCCESS"
        assert as_json(db, "members", "block", "--member-id", member["id"])["status"] == "BLOCKED"
        assert login().status_code == 403
        assert as_json(db, "members", "delete", "--member-id", member["id"]) == {"id": member["id"], "deleted": True}
        assert as_json(db, "members", "list", "--site-id", site) == []
        table = cli(db, "members", "list", "--site-id", site).stdout
        assert table.strip() == "(none)"
        unknown = cli(db, "members", "block", "--member-id", member["id"], check=False)
        assert unknown.returncode == 2 and "no member" in unknown.stderr


def test_mail_list_shows_the_development_outbox(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/mail.db"
    with live_server(db) as live:
        live.services.members.create(live.tenant.site_id, "bob@example.com", "long enough")
        r = httpx.post(f"{live.url}/_api/iam/recovery/v1/send-email",
                       json={"email": "bob@example.com", "redirect": {"url": f"{live.url}/x",
                                                                      "clientId": live.tenant.client_id}})
        assert r.status_code == 200 and r.json() == {}
        (mail,) = as_json(db, "mail", "list", "--to", "bob@example.com")
        assert mail["status"] == "outbox" and "/account/reset-password?token=" in mail["body"]
        link = mail["body"].split(live.url)[1].split()[0]
        assert httpx.get(live.url + link).status_code == 200  # the link works as printed
        assert "Reset your password" in cli(db, "mail", "list").stdout


def test_app_origins_and_key_scopes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/apps.db"
    tenant = json.loads(cli(db, "init", "--json").stdout)
    bad = cli(db, "apps", "update", "--client-id", tenant["clientId"], "--allowed-origin", "https://a.example/x",
              check=False)
    assert bad.returncode == 2 and "has a path" in bad.stderr
    out = as_json(db, "apps", "update", "--client-id", tenant["clientId"], "--allowed-origin", "HTTPS://App.Example:443/")
    assert out["allowedOrigins"] == ["https://app.example"]
    created = as_json(db, "apps", "create", "--site-id", tenant["siteId"], "--allowed-domain", "x.example",
                      "--allowed-origin", "https://spa.example.net")
    assert created["clientId"]
    key = as_json(db, "keys", "create", "--site-id", tenant["siteId"], "--scope", "SCOPE.IAM.SIGN-ON")
    assert key["apiKey"].startswith("hrk_")
    listed = cli(db, "keys", "list", "--site-id", tenant["siteId"]).stdout
    assert "SCOPE.IAM.SIGN-ON" in listed
