"""The SDK's identity calls (SPEC §11, sdk-identity-wire.md): register, login, verification,
registration policies, members/my, blocked members, and their error bodies."""

from __future__ import annotations

import pytest

from headless_redirects.service.secrets import digest
from tests.conftest import World
from tests.idapi import (
    AUTHN,
    EMAIL,
    PASSWORD,
    app_error,
    authorized_client,
    backend_key,
    code_from,
    login,
    outbox,
    register,
)


def set_policy(world: World, policy: str) -> None:
    assert world.services.store.tenancy.update_site(world.tenant.site_id, registration_policy=policy)


def test_register_on_an_open_site(world: World) -> None:
    r = register(world, profile={"nickname": "Ann"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "SUCCESS" and body["stateToken"] is None
    assert body["sessionToken"].startswith("hst_")
    member = world.services.identity.get_member(body["identity"]["id"])
    assert member is not None and member.email == EMAIL and member.status == "APPROVED" and member.nickname == "Ann"
    assert member.password_hash is not None and member.password_hash.startswith("$argon2id$")
    # the session token is stored only as its digest
    row = world.services.identity.member_token(digest(body["sessionToken"]))
    assert row is not None and row.kind == "session" and row.member_id == member.id
    assert row.expires_at - row.created_at == 600


def test_register_errors_use_the_sdks_codes(world: World) -> None:
    assert register(world).status_code == 200
    r = register(world, email=EMAIL.upper())
    assert r.status_code == 409 and app_error(r) == "-19995" and isinstance(app_error(r), str)
    r = register(world, email="not-an-email", password="short")
    assert r.status_code == 400
    violations = r.json()["details"]["validationError"]["fieldViolations"]
    assert [v["field"] for v in violations] == ["loginId.email", "password"]
    assert violations[0]["data"] == {"type": "EMAIL"}
    assert all(isinstance(v["data"], dict) for v in violations)  # the SDK's register crashes without data
    assert world.client.post(f"{AUTHN}/register", json={}).status_code == 401


def test_login_success_and_failures_without_enumeration(world: World) -> None:
    register(world)
    r = login(world)
    assert r.status_code == 200 and r.json()["state"] == "SUCCESS" and r.json()["sessionToken"]
    wrong, unknown = login(world, password="wrong password"), login(world, email="nobody@example.com")
    assert app_error(wrong) == app_error(unknown) == "-19976"
    assert wrong.status_code == unknown.status_code
    assert wrong.json()["message"] == unknown.json()["message"]
    member = world.services.identity.member_by_email(world.tenant.site_id, EMAIL)
    assert member is not None and member.last_login_at is not None


def test_login_never_answers_a_validation_error(world: World) -> None:
    token = world.visitor()["access_token"]
    for body in (b"not json", b"[]", b"{}"):
        r = world.client.post(f"{AUTHN}/login", content=body, headers={"Authorization": token,
                                                                       "content-type": "application/json"})
        assert r.status_code >= 400 and "applicationError" in r.json()["details"], r.text


def test_failed_logins_are_limited(world: World) -> None:
    register(world)
    for _ in range(5):
        assert app_error(login(world, password="wrong password")) == "-19976"
    r = login(world)  # even the right password, once the account is locked
    assert r.status_code == 429 and app_error(r) == "RESOURCE_EXHAUSTED"
    assert int(r.headers["retry-after"]) > 0 and "minutes" in r.json()["message"]


def test_a_member_without_a_password_must_reset_it(world: World) -> None:
    world.services.members.insert(world.tenant.site_id, EMAIL, None)
    assert app_error(login(world)) == "-19973"


def test_verify_email_policy(world: World) -> None:
    set_policy(world, "verify-email")
    r = register(world)
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "REQUIRE_EMAIL_VERIFICATION" and body["sessionToken"] is None and body["stateToken"]
    (mail,) = outbox(world)
    code = code_from(mail.body)
    assert mail.status == "outbox" and mail.subject == "Your verification code"
    verify = "/_api/iam/verification/v1/auth/verify"
    wrong = "000000" if code != "000000" else "111111"
    r = world.client.post(verify, json={"code": wrong, "stateToken": body["stateToken"]})
    assert r.status_code == 400 and app_error(r) == "INVALID_VERIFICATION_CODE"
    r = world.client.post(verify, json={"code": code, "stateToken": body["stateToken"]})
    assert r.status_code == 200 and r.json()["state"] == "SUCCESS" and r.json()["sessionToken"]
    member = world.services.identity.member_by_email(world.tenant.site_id, EMAIL)
    assert member is not None and member.email_verified and member.status == "APPROVED"
    r = world.client.post(verify, json={"code": code, "stateToken": body["stateToken"]})
    assert r.status_code == 400 and app_error(r) == "INVALID_STATE_TOKEN"  # single use
    assert login(world).json()["state"] == "SUCCESS"


def test_a_verification_code_dies_after_five_wrong_tries(world: World) -> None:
    set_policy(world, "verify-email")
    state_token = register(world).json()["stateToken"]
    code = code_from(outbox(world)[0].body)
    wrong = "000000" if code != "000000" else "111111"
    verify = "/_api/iam/verification/v1/auth/verify"
    for _ in range(5):
        assert world.client.post(verify, json={"code": wrong, "stateToken": state_token}).status_code == 400
    r = world.client.post(verify, json={"code": code, "stateToken": state_token})
    assert r.status_code == 400 and app_error(r) == "INVALID_STATE_TOKEN"
    # logging in again (with the password) sends a new code
    r = login(world)
    assert r.json()["state"] == "REQUIRE_EMAIL_VERIFICATION" and len(outbox(world)) == 2


def test_approval_policy(world: World) -> None:
    set_policy(world, "approval")
    r = register(world)
    assert r.json()["state"] == "REQUIRE_OWNER_APPROVAL" and r.json()["sessionToken"] is None
    assert login(world).json()["state"] == "REQUIRE_OWNER_APPROVAL"
    world.services.identity.update_member(r.json()["identity"]["id"], status="APPROVED")
    assert login(world).json()["state"] == "SUCCESS"


def member_tokens(world: World) -> dict[str, str]:
    """Member tokens through the authorized_client grant (a trusted backend)."""
    member_id = register(world).json()["identity"]["id"]
    r = authorized_client(world, backend_key(world), member_id)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_current_member(world: World) -> None:
    tokens = member_tokens(world)
    r = world.client.get("/members/v1/members/my?fieldsets=FULL", headers={"Authorization": tokens["access_token"]})
    assert r.status_code == 200, r.text
    member = r.json()["member"]
    assert member["loginEmail"] == EMAIL and member["status"] == "APPROVED"
    assert set(member) == {"id", "loginEmail", "loginEmailVerified", "status", "contactId", "profile",
                           "privacyStatus", "activityStatus", "createdDate", "updatedDate", "lastLoginDate"}
    assert set(member["profile"]) == {"nickname", "slug"} and member["profile"]["slug"] == "ann"
    assert member["createdDate"].endswith("Z")
    visitor = world.visitor()["access_token"]
    r = world.client.get("/members/v1/members/my", headers={"Authorization": visitor})
    assert r.status_code == 403 and app_error(r) == "PERMISSION_DENIED"
    assert world.client.get("/members/v1/members/my").status_code == 401


def test_a_blocked_members_tokens_fail_and_it_cannot_log_in(world: World) -> None:
    tokens = member_tokens(world)
    member_id = world.services.keys.verify(tokens["access_token"])["sub"]
    world.services.identity.update_member(member_id, status="BLOCKED")
    world.services.tokens.revoke_subject(member_id)  # what `members block` does
    r = world.client.get("/members/v1/members/my", headers={"Authorization": tokens["access_token"]})
    assert r.status_code == 401
    r = world.client.post("/oauth2/token", json={"grantType": "refresh_token", "refreshToken": tokens["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = login(world)
    assert r.status_code == 403 and app_error(r) == "MEMBER_BLOCKED"


@pytest.mark.parametrize("policy", ["open", "verify-email", "approval"])
def test_hosted_sign_up_follows_the_policy(world: World, policy: str) -> None:
    from tests.identity import auth_body, session_url, submit_login

    set_policy(world, policy)
    page = world.client.get(session_url(world, auth_body(world)))
    r = submit_login(world.client, page.text, email=EMAIL, password=PASSWORD, button="signup")
    if policy == "open":
        assert r.status_code == 303
    else:
        assert r.status_code == 400 and "Sign up on the site itself" in r.text
        assert world.services.identity.member_by_email(world.tenant.site_id, EMAIL) is None
