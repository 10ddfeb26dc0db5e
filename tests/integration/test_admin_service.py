"""The admin service (what the CLI runs) on SQLite and PostgreSQL, through one fixture: each use
case's typed result, and its refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from headless_redirects.bootstrap import bootstrap_admin
from headless_redirects.service.admin import AdminService
from headless_redirects.service.admin_results import (
    ApiKey,
    App,
    Attempt,
    Endpoint,
    Invalid,
    Mail,
    Member,
    NewApiKey,
    NewEndpoint,
    NewSite,
    NotFound,
    NothingToChange,
    Resent,
    RevokedKey,
    SentTestEvent,
    SessionSummary,
    SigningKey,
    Site,
)
from headless_redirects.service.health import readiness
from headless_redirects.settings import Settings
from tests.conftest import GUID, PUBLIC_URL, World, make_world
from tests.webhook_receiver import receiver

PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.services.db.dispose()


@pytest.fixture
def admin(world: World, database_url: str) -> Iterator[AdminService]:
    service = bootstrap_admin(Settings(database_url=database_url, public_url=PUBLIC_URL))
    yield service
    service.close()


def test_sites(admin: AdminService, world: World) -> None:
    new = admin.create_site(name="Other", public_url="https://other.example.com", allowed_domains=["other.example.com"],
                            redirect_uris=[])
    assert isinstance(new, NewSite) and new.api_key.startswith("hrk_")
    site = admin.site(new.site_id)
    assert site == Site(id=new.site_id, name="Other", base_url="https://other.example.com", flow_provider="demo",
                        registration_policy="open", page_settings={}, created_at=site.created_at)
    changed = admin.update_site(new.site_id, base_url="https://b.example.com", registration_policy="approval")
    assert (changed.base_url, changed.registration_policy) == ("https://b.example.com", "approval")
    paged = admin.set_page(new.site_id, "ecomCheckout", path="/checkout", published=True)
    assert paged.page_settings["ecomCheckout"].path == "/checkout" and paged.page_settings["ecomCheckout"].published
    assert admin.remove_page(new.site_id, "ecomCheckout").page_settings == {}
    with pytest.raises(Invalid):
        admin.update_site(new.site_id, flow_provider="no.such.module:Provider")
    with pytest.raises(NothingToChange):
        admin.update_site(new.site_id)
    with pytest.raises(NotFound, match="no site nope"):
        admin.update_site("nope", registration_policy="open")
    with pytest.raises(Invalid, match="redirect URI"):
        admin.create_site(name="Bad", public_url=None, allowed_domains=[], redirect_uris=["javascript:x"])
    assert admin.development_site(allowed_domains=["localhost"], redirect_uris=[]) is None  # there are sites


def test_apps(admin: AdminService, world: World) -> None:
    site_id = world.tenant.site_id
    (existing,) = admin.apps(site_id)
    assert isinstance(existing, App) and existing.client_id == world.tenant.client_id
    app = admin.create_app(site_id, name="second", allowed_domains=["B.example.com"],
                           redirect_uris=["https://b.example.com/cb"], allowed_origins=["https://c.example.com"])
    assert (app.allowed_domains, app.redirect_uris, app.allowed_origins) == (
        ["b.example.com"], ["https://b.example.com/cb"], ["https://c.example.com"])
    assert [a.client_id for a in admin.apps(site_id)] == [existing.client_id, app.client_id]
    updated = admin.update_app(app.client_id, allowed_origins=["https://d.example.com"])
    assert updated.allowed_origins == ["https://d.example.com"]
    assert admin.update_app(app.client_id, allowed_origins=None, clear_origins=True).allowed_origins == []
    with pytest.raises(NothingToChange):
        admin.update_app(app.client_id, allowed_origins=None)
    with pytest.raises(NotFound):
        admin.update_app("nope", allowed_origins=[])
    with pytest.raises(Invalid, match="bad redirect URI"):
        admin.create_app(site_id, name="x", allowed_domains=[], redirect_uris=["javascript:x"], allowed_origins=[])
    with pytest.raises(Invalid):
        admin.create_app(site_id, name="x", allowed_domains=[], redirect_uris=[], allowed_origins=["ftp://x"])
    with pytest.raises(NotFound):
        admin.apps("nope")


def test_api_keys_and_signing_keys(admin: AdminService, world: World) -> None:
    site_id = world.tenant.site_id
    key = admin.create_api_key(site_id, name="backend", scopes=["SCOPE.IAM.SIGN-ON", "SCOPE.IAM.SIGN-ON"])
    assert isinstance(key, NewApiKey) and key.scopes == ["SCOPE.IAM.SIGN-ON"] and key.api_key.startswith("hrk_")
    assert admin.create_api_key(site_id, name="default").scopes == ["SCOPE.PROMOTE.VIEW-SEO"]
    listed = {k.id: k for k in admin.api_keys(site_id)}
    assert isinstance(listed[key.id], ApiKey) and listed[key.id].revoked_at is None
    revoked = admin.revoke_api_key(key.id)
    assert revoked == RevokedKey(id=key.id, revoked_at=revoked.revoked_at)
    assert {k.id: k for k in admin.api_keys(site_id)}[key.id].revoked_at == revoked.revoked_at
    with pytest.raises(NotFound, match="no active key"):
        admin.revoke_api_key(key.id)
    before = world.client.get("/.well-known/jwks.json").json()["keys"]
    rotated = admin.rotate_signing_key()
    assert isinstance(rotated, SigningKey) and rotated.kid not in {k["kid"] for k in before}


def test_members(admin: AdminService, world: World) -> None:
    site_id = world.tenant.site_id
    member = admin.create_member(site_id, "Ann@Example.com", PASSWORD)
    assert member == Member(id=member.id, site_id=site_id, email="ann@example.com", status="APPROVED",
                            email_verified=False, created_at=member.created_at, last_login_at=None)
    with pytest.raises(Invalid):
        admin.create_member(site_id, "not an email", PASSWORD)
    with pytest.raises(NotFound):
        admin.create_member("nope", "b@example.com", PASSWORD)
    assert admin.block_member(member.id).status == "BLOCKED"
    assert [m.id for m in admin.list_members(site_id, "BLOCKED")] == [member.id]
    assert admin.list_members(site_id, "APPROVED") == []
    assert admin.approve_member(member.id).status == "APPROVED"
    assert admin.delete_member(member.id).id == member.id
    assert admin.list_members(site_id) == []
    with pytest.raises(NotFound, match="no member"):
        admin.delete_member(member.id)


def test_sessions_and_purge(admin: AdminService, world: World) -> None:
    created = world.create({"ecomCheckout": {"checkoutId": GUID}}).json()["redirectSession"]
    (summary,) = admin.list_sessions(world.tenant.site_id, 10)
    assert summary == SessionSummary(id=created["id"], intent="ecomCheckout", state=summary.state,
                                     site_id=world.tenant.site_id, created_at=summary.created_at,
                                     expires_at=summary.expires_at)
    assert admin.session(created["id"]).id == created["id"]
    assert admin.list_sessions("another site", 10) == []
    with pytest.raises(NotFound, match="no session"):
        admin.session("nope")
    assert admin.purge(keep_days=0) == 0  # nothing has expired


def test_mail(admin: AdminService, world: World) -> None:
    world.services.mailer.record(world.tenant.site_id, "ann@example.com", "Hello", "Body")
    (mail,) = admin.mail(10)
    assert mail == Mail(id=mail.id, recipient="ann@example.com", subject="Hello", body="Body", status=mail.status,
                        created_at=mail.created_at, sent_at=mail.sent_at, error=mail.error)
    assert admin.mail(10, "someone@example.com") == []


def test_webhooks(admin: AdminService, world: World) -> None:
    site_id = world.tenant.site_id
    with receiver() as hook:
        added = admin.add_endpoint(site_id, hook.url, ["redirect_session.created"])
        hook.secret = added.secret
        assert isinstance(added, NewEndpoint) and added.secret.startswith("whsec_")
        (listed,) = admin.endpoints(site_id)
        assert listed == Endpoint(id=added.id, site_id=site_id, url=hook.url, events=["redirect_session.created"],
                                  created_at=listed.created_at, disabled_at=None, disabled_reason=None)
        sent = asyncio.run(admin.send_test(added.id))
        assert sent == SentTestEvent(event_id=sent.event_id, status_code=200, delivered=True)
        (attempt,) = admin.attempts(added.id, 10)
        assert isinstance(attempt, Attempt) and (attempt.event_id, attempt.status_code) == (sent.event_id, 200)
        session_id = world.create({"ecomCheckout": {"checkoutId": GUID}}).json()["redirectSession"]["id"]
        (event,) = world.services.webhooks.events_of(session_id)
        assert admin.resend(event.id) == Resent(event_id=event.id, deliveries=1)
        with pytest.raises(NotFound, match="no event"):
            admin.resend("msg_nope")
        with pytest.raises(Invalid):
            admin.add_endpoint(site_id, "ftp://x", [])
        assert admin.remove_endpoint(added.id).id == added.id
        assert admin.endpoints(site_id) == []
        with pytest.raises(NotFound, match="no webhook endpoint"):
            admin.remove_endpoint(added.id)


def test_readiness(world: World) -> None:
    assert readiness(world.services.db).database_ok
    assert world.client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_readiness_of_an_unreachable_database(tmp_path: object) -> None:
    from headless_redirects.storage.database import Database

    db = Database("postgresql://nobody@127.0.0.1:1/none", async_pool=False)
    try:
        assert not readiness(db).database_ok
    finally:
        db.dispose()
