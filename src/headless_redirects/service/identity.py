"""The SDK's identity calls (SPEC §11, ``sdk-identity-wire.md``): register, login, email
verification, password recovery, sign-on for trusted backends, and single-use session tokens.

Answers are Structs (:class:`StateResponse`, :class:`SignOn`, :class:`Recovery`,
``member_view.MemberView``); ``web.identity_api`` writes them as the SDK's StateMachineResponse
``{state, sessionToken, stateToken, identity}`` and the rest of SPEC §11. Failures are
:class:`ApplicationError` with the SDK's *string* codes. Login never tells an
unknown email from a wrong password (both ``-19976``, same argon2 cost).
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

import msgspec

from ..domain.callbacks import check_callback_url
from ..domain.errors import ApplicationError, FieldViolation, NotFound, PermissionDenied, Rule, ValidationFailed
from ..settings import Settings
from ..storage.identity import IdentityStore, MemberRow, MemberTokenRow
from ..storage.repository import Store
from .mail import Mailer
from .member_view import MemberView, member_wire
from .members import (
    APPROVED,
    BLOCKED,
    PENDING,
    EmailTaken,
    LoginFailed,
    MemberService,
    TooManyAttempts,
    check_email,
    check_password,
    normalize_email,
)
from .messages import recovery_message, verification_message
from .secrets import digest, new_secret
from .session_view import Guid
from .tenancy import TenantCache
from .tokens import MEMBER, Identity, TokenService

__all__ = ["EMAIL_EXISTS", "INVALID_PASSWORD", "RESET_PASSWORD", "IdentityService", "Recovery", "SignOn",
           "StateResponse"]

EMAIL_EXISTS = "-19995"
INVALID_PASSWORD = "-19976"
RESET_PASSWORD = "-19973"
SUCCESS, REQUIRE_EMAIL_VERIFICATION, REQUIRE_OWNER_APPROVAL = (
    "SUCCESS", "REQUIRE_EMAIL_VERIFICATION", "REQUIRE_OWNER_APPROVAL")
SESSION, VERIFICATION, RECOVERY = "session", "verification", "recovery"
MAX_CODE_TRIES = 5
# At most this many verification or recovery emails per account and window (no mail bombing).
MAILS_PER_WINDOW = 5


class StateResponse(msgspec.Struct, frozen=True):
    """Where a member stands after register, login, verify or recover: ``SUCCESS`` with a
    session token, or what the member still has to do (with a state token to verify with)."""

    state: Annotated[str, msgspec.Meta(extra_json_schema={
        "enum": [SUCCESS, REQUIRE_EMAIL_VERIFICATION, REQUIRE_OWNER_APPROVAL]})]
    member_id: Guid
    session_token: str | None = None
    state_token: str | None = None


class SignOn(msgspec.Struct, frozen=True):
    """A trusted backend's sign-on: the member it logged in and a session token to spend."""

    session_token: str
    member_id: Guid


class Recovery(msgspec.Struct, frozen=True):
    """A password reset: where the member stands now, and the URL to send the browser to
    (``None`` when the reset link named none on an allowed domain)."""

    state: StateResponse
    redirect_url: str | None


class IdentityService:
    def __init__(self, store: Store, identity: IdentityStore, members: MemberService, tokens: TokenService,
                 tenants: TenantCache, mailer: Mailer, settings: Settings) -> None:
        self.store = store
        self.identity = identity
        self.members = members
        self.tokens = tokens
        self.tenants = tenants
        self.mailer = mailer
        self.settings = settings
        self.db = identity.db

    # --- register and login ------------------------------------------------------------------

    async def register(self, site_id: str, email: str, password: str, nickname: str | None,
                       language: str | None) -> StateResponse:
        email = normalize_email(email)
        violations = []
        if check_email(email):
            violations.append(FieldViolation("loginId.email", "enter a valid email address", Rule.FORMAT,
                                             {"type": "EMAIL"}))
        if check_password(password):
            violations.append(FieldViolation("password", f"{check_password(password)}", Rule.VALIDATION,
                                             {"type": "PASSWORD"}))
        if violations:
            raise ValidationFailed(violations)
        policy = await self.db.run(self._policy, site_id)
        status = APPROVED if policy == "open" else PENDING
        try:
            member = await self.members.sign_up(site_id, email, password, status=status, nickname=nickname,
                                                language=language)
        except EmailTaken:
            raise ApplicationError(EMAIL_EXISTS, "an account with this email already exists", 409) from None
        return await self._state_of(member)

    async def login(self, site_id: str, email: str, password: str, client_ip: str) -> StateResponse:
        try:
            member = await self.members.login(site_id, email, password, client_ip)
        except TooManyAttempts as exc:
            raise ApplicationError("RESOURCE_EXHAUSTED", f"too many failed logins; try again in "
                                   f"{exc.retry_after // 60 or 1} minutes", 429, retry_after=exc.retry_after) from None
        except LoginFailed:
            member_without_password = await self.db.run(self.identity.member_by_email, site_id,
                                                         normalize_email(email))
            if member_without_password is not None and member_without_password.password_hash is None:
                raise ApplicationError(RESET_PASSWORD, "this account has no password yet; reset it", 400) from None
            raise ApplicationError(INVALID_PASSWORD, "wrong email or password", 401) from None
        if member.status == BLOCKED:
            raise ApplicationError("MEMBER_BLOCKED", "this account is blocked", 403)
        return await self._state_of(member)

    async def _state_of(self, member: MemberRow) -> StateResponse:
        """SUCCESS with a session token, or what the member still has to do."""
        if member.status == APPROVED:
            return StateResponse(SUCCESS, member.id, session_token=await self.db.run(self.new_session_token, member))
        if not member.email_verified and await self.db.run(self._policy, member.site_id) == "verify-email":
            state_token = await self._send_verification(member)
            return StateResponse(REQUIRE_EMAIL_VERIFICATION, member.id, state_token=state_token)
        return StateResponse(REQUIRE_OWNER_APPROVAL, member.id)

    def _policy(self, site_id: str) -> str:
        tenant = self.tenants.tenant(site_id)
        return tenant.site.registration_policy if tenant is not None else "open"

    # --- single-use tokens -------------------------------------------------------------------

    def _new_token(self, kind: str, member: MemberRow, ttl: int, *, code: str | None = None,
                   data: dict[str, Any] | None = None) -> str:
        token = new_secret({SESSION: "hst_", VERIFICATION: "hvt_", RECOVERY: "hpr_"}[kind])
        now = int(time.time())
        self.identity.insert_member_token(MemberTokenRow(
            digest(token), kind, member.site_id, member.id, now, now + ttl,
            code_hash=digest(code) if code is not None else None, data=data or {}))
        return token

    def new_session_token(self, member: MemberRow) -> str:
        return self._new_token(SESSION, member, self.settings.session_token_ttl)

    def _live_token(self, kind: str, token: str, site_id: str | None) -> MemberTokenRow | None:
        row = self.identity.member_token(digest(token)) if token else None
        if row is None or row.kind != kind or row.used_at is not None or row.expires_at <= time.time():
            return None
        if site_id is not None and row.site_id != site_id:
            return None
        return row

    def use_session_token(self, token_hash: str, site_id: str, member_id: str | None = None) -> MemberRow | None:
        """Spend a session token (given as its digest): the approved member it was issued to on
        ``site_id``, or ``None`` when it is unknown, used, expired, another site's or another
        member's."""
        row = self.identity.member_token(token_hash)
        if (row is None or row.kind != SESSION or row.used_at is not None or row.expires_at <= time.time()
                or row.site_id != site_id or (member_id is not None and row.member_id != member_id)):
            return None
        if not self.identity.use_member_token(token_hash, int(time.time())):
            return None
        member = self.identity.get_member(row.member_id)
        return member if member is not None and member.status == APPROVED else None

    # --- email verification ------------------------------------------------------------------

    async def _send_verification(self, member: MemberRow) -> str:
        code = f"{secrets.randbelow(10**6):06d}"
        state_token = await self.db.run(self._new_token, VERIFICATION, member, self.settings.verification_code_ttl,
                                        code=code)
        if await self.db.run(self._mail_allowed, f"mail:verify:{member.id}"):
            subject, body = verification_message(member.language, code, self.settings.verification_code_ttl // 60)
            row = await self.db.run(self.mailer.record, member.site_id, member.email, subject, body)
            self.mailer.send_soon(row)
        return state_token

    async def verify(self, code: str, state_token: str) -> StateResponse:
        row = await self.db.run(self._live_token, VERIFICATION, state_token, None)
        if row is None:
            raise ApplicationError("INVALID_STATE_TOKEN", "the verification expired or was already used; log in "
                                   "again for a new code", 400)
        if not secrets.compare_digest(digest(code.strip()), row.code_hash or ""):
            await self.db.run(self.identity.count_member_token_try, row.token_hash, MAX_CODE_TRIES,
                              int(time.time()))
            left = max(MAX_CODE_TRIES - row.tries - 1, 0)
            raise ApplicationError("INVALID_VERIFICATION_CODE",
                                   f"the code is wrong; {left} {'try' if left == 1 else 'tries'} left", 400)
        if not await self.db.run(self.identity.use_member_token, row.token_hash, int(time.time())):
            raise ApplicationError("INVALID_STATE_TOKEN", "the verification was already used", 400)
        member = await self.db.run(self.identity.get_member, row.member_id)
        if member is None or member.status == BLOCKED:
            raise ApplicationError("INVALID_STATE_TOKEN", "the account no longer exists", 400)
        values: dict[str, Any] = {"email_verified": True, "updated_at": int(time.time())}
        if member.status == PENDING:
            values["status"] = APPROVED
        await self.db.run(self.identity.update_member, member.id, **values)
        member = await self.db.run(self.identity.get_member, member.id)
        assert member is not None
        return await self._state_of(member)

    def _mail_allowed(self, key: str) -> bool:
        now = int(time.time())
        window = self.members.limits.window
        if self.identity.failures(key, now, window) >= MAILS_PER_WINDOW:
            return False
        self.identity.record_failure(key, now, window)
        return True

    # --- password recovery -------------------------------------------------------------------

    async def send_recovery(self, site_id: str, email: str, redirect_url: str | None, client_id: str | None,
                            base_url: str) -> None:
        """Email a reset link when ``email`` is a member of the site; silent either way."""
        member = await self.db.run(self.identity.member_by_email, site_id, normalize_email(email))
        if member is None or member.status == BLOCKED:
            return
        if not await self.db.run(self._mail_allowed, f"mail:recovery:{member.id}"):
            return
        token = await self.db.run(self._new_token, RECOVERY, member, self.settings.recovery_token_ttl,
                                  data={"redirectUrl": redirect_url, "clientId": client_id})
        link = f"{base_url.rstrip('/')}/account/reset-password?token={token}"
        subject, body = recovery_message(member.language, link, self.settings.recovery_token_ttl // 60)
        row = await self.db.run(self.mailer.record, member.site_id, member.email, subject, body)
        self.mailer.send_soon(row)

    def _recovery(self, token: str) -> MemberTokenRow | None:
        return self._live_token(RECOVERY, token, None)

    async def recovery_is_live(self, token: str) -> bool:
        """Whether ``token`` is a live recovery token (the reset page shows its form only then)."""
        return await self.db.run(self._recovery, token) is not None

    async def recover(self, token: str, password: str) -> Recovery:
        """Set a new password from a recovery token; every token the member had dies. Also the
        URL to send the browser to: ``redirect.url`` when it is on an allowed domain of
        ``redirect.clientId``'s app (of the member's site), else ``None``."""
        problem = check_password(password)
        if problem:
            raise ValidationFailed([FieldViolation("password", problem, Rule.VALIDATION, {"type": "PASSWORD"})])
        row = await self.db.run(self._recovery, token)
        if row is None or not await self.db.run(self.identity.use_member_token, row.token_hash, int(time.time())):
            raise ApplicationError("INVALID_RECOVERY_TOKEN", "the reset link expired or was already used", 400)
        member = await self.db.run(self.identity.get_member, row.member_id)
        if member is None or member.status == BLOCKED:
            raise ApplicationError("INVALID_RECOVERY_TOKEN", "the account no longer exists", 400)
        password_hash = await self.members.passwords.hash_async(password)
        await self.db.run(self.identity.update_member, member.id, password_hash=password_hash, email_verified=True,
                          updated_at=int(time.time()))
        await self.db.run(self.tokens.revoke_subject, member.id)
        member = await self.db.run(self.identity.get_member, member.id)
        assert member is not None
        return Recovery(await self._state_of(member),
                        await self.db.run(self._redirect_after_reset, member.site_id, row.data))

    def _redirect_after_reset(self, site_id: str, data: dict[str, Any]) -> str | None:
        url, client_id = data.get("redirectUrl"), data.get("clientId")
        if not isinstance(url, str) or not isinstance(client_id, str):
            return None
        found = self.tenants.tenant_of_app(client_id.lower())
        if found is None or found[0].site.id != site_id:
            return None
        return url if check_callback_url(url, found[1].allowed_domains) is None else None

    # --- trusted backends --------------------------------------------------------------------

    async def sign_on(self, site_id: str, email: str, nickname: str | None, verified: bool) -> SignOn:
        """Log a member in by email for a trusted backend (creating it, without a password, when
        new)."""
        email = normalize_email(email)
        if check_email(email):
            raise ValidationFailed([FieldViolation("loginId.email", "enter a valid email address", Rule.FORMAT,
                                                   {"type": "EMAIL"})])
        member = await self.db.run(self.identity.member_by_email, site_id, email)
        if member is None:
            try:
                member = await self.db.run(self.members.insert, site_id, email, None, email_verified=verified,
                                           nickname=nickname)
            except EmailTaken:  # created by a concurrent request
                member = await self.db.run(self.identity.member_by_email, site_id, email)
                assert member is not None
        if member.status != APPROVED:
            raise PermissionDenied(f"the member is {member.status.lower()}")
        return SignOn(await self.db.run(self.new_session_token, member), member.id)

    # --- the current member ------------------------------------------------------------------

    async def member(self, caller: Identity) -> MemberView:
        """The member behind a member's access token (``GET /members/v1/members/my``)."""
        if caller.subject_type != MEMBER:
            raise PermissionDenied("a visitor is not a member: log in first")
        member = await self.db.run(self.identity.get_member, caller.subject_id)
        if member is None or member.site_id != caller.site_id:
            raise NotFound("the member no longer exists")
        return member_wire(member)
