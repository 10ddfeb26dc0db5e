"""Webhooks with real processes (SPEC §12): a server killed with SIGKILL between commit and
delivery delivers after a restart; two dispatchers on one PostgreSQL database deliver each event
once per attempt; the webhooks CLI end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from headless_redirects.service.webhooks import new_endpoint
from tests.conftest import GUID
from tests.live import free_port, live_server, wait_up
from tests.webhook_receiver import receiver

CLI = [sys.executable, "-m", "headless_redirects.cli"]
SESSIONS = "/_api/redirects-api/v1/redirect-session"


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLESS_REDIRECTS_")}
    env["HEADLESS_REDIRECTS_DATABASE_URL"] = f"sqlite:///{tmp_path}/hooks.db"
    env["HEADLESS_REDIRECTS_WEBHOOK_POLL_INTERVAL"] = "0.1"
    env.update({f"HEADLESS_REDIRECTS_{k.upper()}": v for k, v in settings.items()})
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)


def test_sigkill_between_commit_and_delivery_delivers_after_restart(tmp_path: Path) -> None:
    env = _env(tmp_path)
    tenant = json.loads(_cli(env, "init", "--json").stdout)
    with receiver() as hook:
        added = json.loads(_cli(env, "webhooks", "add", "--site-id", tenant["siteId"], "--url", hook.url,
                                "--json").stdout)
        assert set(added) == {"id", "url", "events", "secret"} and added["secret"].startswith("whsec_")
        hook.secret = added["secret"]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        # The first process commits events but never delivers them: its dispatcher is off.
        first = subprocess.Popen([*CLI, "serve", "--port", str(port)], env={**env, "HEADLESS_REDIRECTS_WEBHOOK_DISPATCHER": "false"},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_up(url)
            time.sleep(1.1)  # the server notices the endpoint
            r = httpx.post(url + SESSIONS, json={"ecomCheckout": {"checkoutId": GUID}},
                           headers={"Authorization": tenant["apiKey"], "wix-site-id": tenant["siteId"]})
            assert r.status_code == 200
            session_id = r.json()["redirectSession"]["id"]
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert hook.events() == []
        second = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_up(url)
            (event,) = hook.wait_for(1, "redirect_session.created")
            assert event["data"]["redirectSession"]["id"] == session_id
        finally:
            second.terminate()
            second.wait(10)


def test_webhooks_cli(tmp_path: Path) -> None:
    env = _env(tmp_path)
    tenant = json.loads(_cli(env, "init", "--json").stdout)
    with receiver() as hook:
        bad = _cli(env, "webhooks", "add", "--site-id", tenant["siteId"], "--url", "http://example.com/hooks")
        assert bad.returncode == 2 and "https" in bad.stderr
        bad = _cli(env, "webhooks", "add", "--site-id", tenant["siteId"], "--url", hook.url, "--event", "nope")
        assert bad.returncode == 2 and "unknown event type" in bad.stderr
        added = json.loads(_cli(env, "webhooks", "add", "--site-id", tenant["siteId"], "--url", hook.url, "--event",
                                "redirect_session.completed", "--json").stdout)
        hook.secret = added["secret"]
        assert added["events"] == ["redirect_session.completed"]
        listed = json.loads(_cli(env, "webhooks", "list", "--site-id", tenant["siteId"], "--json").stdout)
        assert [e["id"] for e in listed] == [added["id"]] and "secret" not in listed[0]
        tested = _cli(env, "webhooks", "test", "--id", added["id"], "--json")
        assert tested.returncode == 0, tested.stderr
        result = json.loads(tested.stdout)
        assert result["statusCode"] == 200 and result["delivered"] is True
        (event,) = hook.events("webhook.test")
        assert event["id"] == result["eventId"]
        attempts = json.loads(_cli(env, "webhooks", "deliveries", "--id", added["id"], "--json").stdout)
        assert [(a["eventId"], a["statusCode"], a["attempt"]) for a in attempts] == [(result["eventId"], 200, 1)]
        hook.fail_next = 1
        failed = _cli(env, "webhooks", "test", "--id", added["id"], "--json")
        assert failed.returncode == 1 and json.loads(failed.stdout)["statusCode"] == 500
        resent = json.loads(_cli(env, "webhooks", "resend", "--event-id", result["eventId"], "--json").stdout)
        assert resent == {"eventId": result["eventId"], "deliveries": 1}
        assert "no event" in _cli(env, "webhooks", "resend", "--event-id", "msg_x").stderr
        table = _cli(env, "webhooks", "list", "--site-id", tenant["siteId"]).stdout
        assert added["id"] in table and "redirect_session.completed" in table
        removed = json.loads(_cli(env, "webhooks", "remove", "--id", added["id"], "--json").stdout)
        assert removed == {"id": added["id"], "removed": True}
        assert json.loads(_cli(env, "webhooks", "list", "--site-id", tenant["siteId"], "--json").stdout) == []


@pytest.mark.postgres
def test_two_dispatchers_on_postgresql_deliver_each_event_once(pg_url: str) -> None:
    fast = {"webhook_poll_interval": 0.05, "tenant_cache_seconds": 0, "webhook_retry_schedule": "0.2"}
    with receiver() as hook, live_server(pg_url, **fast) as one:
        endpoint = new_endpoint(one.tenant.site_id, hook.url, [])
        one.services.webhooks.add_endpoint(endpoint)
        hook.secret = endpoint.secret
        # A second instance on the same database, with its own dispatcher.
        from headless_redirects.settings import Settings
        from headless_redirects.web.app import create_app
        from tests.live import serve_in_thread

        port = free_port()
        two = create_app(Settings(database_url=pg_url, public_url=f"http://127.0.0.1:{port}", **fast), migrate=False)
        with serve_in_thread(two, port):
            time.sleep(1.1)
            headers = {"Authorization": one.tenant.api_key, "wix-site-id": one.tenant.site_id}
            ids = []
            with httpx.Client() as client:
                for i in range(40):  # half through each instance
                    base = one.url if i % 2 == 0 else f"http://127.0.0.1:{port}"
                    r = client.post(base + SESSIONS, json={"ecomCheckout": {"checkoutId": GUID}}, headers=headers)
                    assert r.status_code == 200
                    ids.append(r.json()["redirectSession"]["id"])
            events = hook.wait_for(40, timeout=30)
            time.sleep(1)  # let any double delivery arrive
            events = hook.events()
            assert Counter(e["id"] for e in events).most_common(1)[0][1] == 1  # no event delivered twice
            assert sorted(e["data"]["redirectSession"]["id"] for e in events) == sorted(ids)
            two.services.db.dispose()  # type: ignore[attr-defined]
