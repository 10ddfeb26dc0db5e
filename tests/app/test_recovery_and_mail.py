"""Password recovery (SPEC §11) — send-email without enumeration, the hosted reset page, the
recover API — and email over a real SMTP server (aiosmtpd) or into the development outbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import World, make_world
from tests.idapi import EMAIL, PASSWORD, app_error, authorized_client, backend_key, link_from, login, outbox, register
from tests.live import free_port

SEND = "/_api/iam/recovery/v1/send-email"
NEW_PASSWORD = "a brand new password"


def send_reset(world: World, email: str = EMAIL, url: str = "https://shop.example.com/welcome-back",
               client_id: str | None = None) -> Any:
    return world.client.post(SEND, json={"email": email, "redirect": {"url": url,
                                                                      "clientId": client_id or world.tenant.client_id}},
                             headers={"Authorization": world.visitor()["access_token"]})


def reset_path(world: World) -> str:
    (mail,) = outbox(world)
    return link_from(mail.body).removeprefix("http://127.0.0.1:8080")


def test_send_email_answers_the_same_for_members_and_strangers(world: World) -> None:
    register(world)
    stranger = send_reset(world, "nobody@example.com")
    member = send_reset(world)
    assert stranger.status_code == member.status_code == 200
    assert stranger.json() == member.json() == {}
    assert outbox(world, "nobody@example.com") == []
    (mail,) = outbox(world)
    assert mail.subject == "Reset your password" and "/account/reset-password?token=hpr_" in mail.body


def test_reset_page_sets_the_password_revokes_tokens_and_redirects(world: World) -> None:
    register(world)
    before = login(world).json()
    tokens = authorized_client(world, backend_key(world), before["identity"]["id"]).json()
    time.sleep(0.002)  # revocations are by millisecond
    send_reset(world)
    path = reset_path(world)
    page = world.client.get(path)
    assert page.status_code == 200 and 'data-testid="password"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    token = path.split("token=")[1]
    short = world.client.post("/account/reset-password", data={"token": token, "password": "short"})
    assert short.status_code == 400 and "at least 8" in short.text
    r = world.client.post("/account/reset-password", data={"token": token, "password": NEW_PASSWORD},
                          follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "https://shop.example.com/welcome-back"
    assert app_error(login(world)) == "-19976"
    assert login(world, password=NEW_PASSWORD).json()["state"] == "SUCCESS"
    assert world.client.post("/oauth2/token-info", json={"token": tokens["access_token"]}).json() == {"active": False}
    # single use
    again = world.client.post("/account/reset-password", data={"token": token, "password": NEW_PASSWORD})
    assert again.status_code == 410 and world.client.get(path).status_code == 410


def test_reset_redirect_outside_the_apps_domains_gets_the_hosted_page(world: World) -> None:
    register(world)
    send_reset(world, url="https://evil.example.com/")
    token = reset_path(world).split("token=")[1]
    r = world.client.post("/account/reset-password", data={"token": token, "password": NEW_PASSWORD, "lang": "de"},
                          follow_redirects=False)
    assert r.status_code == 200 and "Ihr Passwort wurde geändert" in r.text


def test_the_reset_page_and_email_are_translated(world: World) -> None:
    world.client.post("/_api/iam/authentication/v2/register",
                      json={"loginId": {"email": EMAIL}, "password": PASSWORD},
                      headers={"Authorization": world.visitor()["access_token"],
                               "x-wix-linguist": "de|de-de|true|0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"})
    send_reset(world)
    (mail,) = outbox(world)
    assert mail.subject == "Passwort zurücksetzen"
    page = world.client.get(reset_path(world) + "&lang=de")
    assert "Neues Passwort wählen" in page.text


def test_recover_api(world: World) -> None:
    register(world)
    send_reset(world)
    token = reset_path(world).split("token=")[1]
    r = world.client.post("/_api/iam/recovery/v1/recover", json={"recoveryToken": token, "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["state"] == "SUCCESS" and r.json()["sessionToken"]
    r = world.client.post("/_api/iam/recovery/v1/recover", json={"recoveryToken": token, "password": NEW_PASSWORD})
    assert r.status_code == 400 and app_error(r) == "INVALID_RECOVERY_TOKEN"


def test_reset_emails_are_limited_per_account(world: World) -> None:
    register(world)
    for _ in range(7):
        assert send_reset(world).status_code == 200
    assert len(outbox(world)) == 5


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_world(sqlite_url: str) -> Iterator[tuple[World, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    w = make_world(sqlite_url, smtp_url=f"smtp://127.0.0.1:{port}", mail_from="Shop <shop@example.com>")
    try:
        yield w, inbox
    finally:
        w.services.db.dispose()
        controller.stop()


def test_email_goes_out_over_smtp(smtp_world: tuple[World, Inbox]) -> None:
    world, inbox = smtp_world
    register(world)
    send_reset(world)
    deadline = time.monotonic() + 10
    while not inbox.messages:
        assert time.monotonic() < deadline, "no message reached the SMTP server"
        time.sleep(0.05)
    (message,) = inbox.messages
    assert message["To"] == EMAIL and message["From"] == "Shop <shop@example.com>"
    assert message["Subject"] == "Reset your password"
    assert "/account/reset-password?token=hpr_" in message.get_payload(decode=True).decode()
    deadline = time.monotonic() + 5
    while outbox(world)[0].status != "sent":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_failing_smtp_server_is_recorded_and_does_not_fail_the_request(sqlite_url: str) -> None:
    world = make_world(sqlite_url, smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        register(world)
        assert send_reset(world).status_code == 200
        deadline = time.monotonic() + 10
        while outbox(world)[0].status != "failed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert outbox(world)[0].error
    finally:
        world.services.db.dispose()


def test_without_smtp_the_mail_is_logged_and_kept(world: World, caplog: pytest.LogCaptureFixture) -> None:
    register(world)
    with caplog.at_level("INFO", logger="headless_redirects.mail"):
        send_reset(world)
    (mail,) = outbox(world)
    assert mail.status == "outbox"
    assert any(getattr(r, "mail_id", None) == mail.id and getattr(r, "body", "") == mail.body for r in caplog.records)
