"""Storage of members, hosted-site browser sessions, authorization codes and login limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa

from .database import Database
from .rows import named_columns, values_of
from .statements import Compiled, Statements
from .tables import authorization_codes, browser_sessions, member_tokens, members, rate_limits, webhook_events

__all__ = ["AuthorizationCodeRow", "BrowserSessionRow", "IdentityStore", "MemberRow", "MemberTokenRow"]


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: str
    site_id: str
    email: str
    password_hash: str | None
    created_at: int
    status: str = "APPROVED"
    email_verified: bool = False
    nickname: str | None = None
    language: str | None = None
    updated_at: int | None = None
    last_login_at: int | None = None


_VERIFIED = [f.name for f in fields(MemberRow)].index("email_verified")


@dataclass(frozen=True, slots=True)
class MemberTokenRow:
    """A single-use secret of the identity API (``tables.member_tokens``)."""

    token_hash: str
    kind: str
    site_id: str
    member_id: str
    created_at: int
    expires_at: int
    used_at: int | None = None
    code_hash: str | None = None
    tries: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BrowserSessionRow:
    token_hash: str
    visitor_id: str | None
    member_id: str | None
    member_site_id: str | None
    member_since_ms: int | None
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class AuthorizationCodeRow:
    code_hash: str
    site_id: str
    client_id: str
    member_id: str
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    created_at: int
    expires_at: int
    redeemed_at: int | None = None
    grant_id: str | None = None


class IdentityStore:
    def __init__(self, db: Database, fast: Statements | None = None) -> None:
        self.db = db
        self.engine = db.engine
        self.events: Any = None  # service.webhooks.EventWriter, wired by bootstrap
        # Code exchange is a hot path (SPEC §7): its two statements skip SQLAlchemy's execution
        # machinery like the other hot-path statements (see ``statements``).
        self.fast = fast or Statements(db)
        p = sa.bindparam
        # Read by column name: the SELECT names AuthorizationCodeRow's fields, in their order.
        code_columns = named_columns(authorization_codes, AuthorizationCodeRow)
        by_hash = authorization_codes.c.code_hash == p("code_hash")
        self._code = self.fast.compile(sa.select(*code_columns).where(by_hash))
        # The exchange's one read: the code, and the status of the member it was issued for
        # (``None`` once the member is deleted), in one statement.
        self._code_and_status = self.fast.compile(
            sa.select(*code_columns,
                      sa.select(members.c.status).where(members.c.id == authorization_codes.c.member_id)
                      .scalar_subquery())
            .where(by_hash))
        self._member = self.fast.compile(sa.select(*named_columns(members, MemberRow)).where(members.c.id == p("id")))
        self._redeem = self.fast.compile(
            authorization_codes.update()
            .where(authorization_codes.c.code_hash == p("code_hash"), authorization_codes.c.redeemed_at.is_(None))
            .values(redeemed_at=p("now"), grant_id=p("grant_id"))
        )

    # --- members ---------------------------------------------------------------------------

    def insert_member(self, member: MemberRow) -> None:
        """Raises ``sqlalchemy.exc.IntegrityError`` when the email is taken on that site. The
        ``member.created`` webhook event (if the site has webhooks) is written in the same
        transaction."""
        event = self.events.member_event(member) if self.events is not None else None
        with self.engine.begin() as c:
            c.execute(members.insert().values(**values_of(member)))
            if event is not None:
                c.execute(webhook_events.insert().values(**event))
        if event is not None:
            self.events.written()

    def member_by_email(self, site_id: str, email: str) -> MemberRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(members).where(members.c.site_id == site_id, members.c.email == email)).first()
            return None if row is None else MemberRow(**row._mapping)

    def get_member(self, member_id: str) -> MemberRow | None:
        row = self.fast.one(self._member, {"id": member_id})
        if row is None:
            return None
        values = list(row)
        values[_VERIFIED] = bool(values[_VERIFIED])  # the DBAPI gives SQLite's booleans as 0 and 1
        return MemberRow(*values)

    def update_password_hash(self, member_id: str, password_hash: str) -> None:
        with self.engine.begin() as c:
            c.execute(members.update().where(members.c.id == member_id).values(password_hash=password_hash))

    def update_member(self, member_id: str, **values: Any) -> bool:
        with self.engine.begin() as c:
            return c.execute(members.update().where(members.c.id == member_id).values(**values)).rowcount == 1

    def list_members(self, site_id: str, status: str | None = None) -> list[MemberRow]:
        with self.engine.connect() as c:
            query = sa.select(members).where(members.c.site_id == site_id).order_by(members.c.created_at)
            if status is not None:
                query = query.where(members.c.status == status)
            return [MemberRow(**r._mapping) for r in c.execute(query)]

    def delete_member(self, member_id: str) -> bool:
        """Delete a member and its pending single-use tokens."""
        with self.engine.begin() as c:
            c.execute(member_tokens.delete().where(member_tokens.c.member_id == member_id))
            return c.execute(members.delete().where(members.c.id == member_id)).rowcount == 1

    # --- single-use member tokens ----------------------------------------------------------

    def insert_member_token(self, row: MemberTokenRow) -> None:
        with self.engine.begin() as c:
            c.execute(member_tokens.insert().values(**values_of(row)))

    def member_token(self, token_hash: str) -> MemberTokenRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(member_tokens).where(member_tokens.c.token_hash == token_hash)).first()
            return None if row is None else MemberTokenRow(**row._mapping)

    def use_member_token(self, token_hash: str, now: int) -> bool:
        """Mark a token used; ``False`` when it already was (by any request, on any instance)."""
        with self.engine.begin() as c:
            result = c.execute(member_tokens.update()
                               .where(member_tokens.c.token_hash == token_hash, member_tokens.c.used_at.is_(None))
                               .values(used_at=now))
            return result.rowcount == 1

    def count_member_token_try(self, token_hash: str, max_tries: int, now: int) -> None:
        """One more wrong guess at a verification code; the token dies at ``max_tries``."""
        with self.engine.begin() as c:
            c.execute(member_tokens.update().where(member_tokens.c.token_hash == token_hash)
                      .values(tries=member_tokens.c.tries + 1))
            c.execute(member_tokens.update()
                      .where(member_tokens.c.token_hash == token_hash, member_tokens.c.tries >= max_tries,
                             member_tokens.c.used_at.is_(None))
                      .values(used_at=now))

    # --- browser sessions ------------------------------------------------------------------

    def insert_browser_session(self, row: BrowserSessionRow) -> None:
        with self.engine.begin() as c:
            c.execute(browser_sessions.insert().values(**values_of(row)))

    def browser_session(self, token_hash: str) -> BrowserSessionRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(browser_sessions).where(browser_sessions.c.token_hash == token_hash)).first()
            return None if row is None else BrowserSessionRow(**row._mapping)

    def update_browser_session(self, token_hash: str, **values: object) -> None:
        with self.engine.begin() as c:
            c.execute(browser_sessions.update().where(browser_sessions.c.token_hash == token_hash).values(**values))

    def delete_browser_session(self, token_hash: str) -> None:
        with self.engine.begin() as c:
            c.execute(browser_sessions.delete().where(browser_sessions.c.token_hash == token_hash))

    # --- authorization codes ---------------------------------------------------------------

    def insert_code(self, row: AuthorizationCodeRow) -> None:
        with self.engine.begin() as c:
            c.execute(authorization_codes.insert().values(**values_of(row)))

    def code(self, code_hash: str) -> AuthorizationCodeRow | None:
        row = self.fast.one(self._code, {"code_hash": code_hash})
        return None if row is None else AuthorizationCodeRow(*row)

    def code_and_member_status(self, code_hash: str) -> tuple[AuthorizationCodeRow, str | None] | None:
        """A code and the status of its member (``None`` if the member is gone), in one read."""
        row = self.fast.one(self._code_and_status, {"code_hash": code_hash})
        return None if row is None else (AuthorizationCodeRow(*row[:-1]), row[-1])

    def redeem_code(self, code_hash: str, grant_id: str, now: int,
                    *also: tuple[Compiled, Mapping[str, Any]]) -> bool:
        """Mark the code redeemed and, in the same transaction, write ``also`` (the refresh token
        it issues); ``False``, writing nothing, when it already was redeemed (by any instance)."""
        return self.fast.write(*also, guard=(self._redeem, {"code_hash": code_hash, "now": now, "grant_id": grant_id}))

    # --- rate limits -----------------------------------------------------------------------

    def failures(self, key: str, now: int, window: int) -> int:
        with self.engine.connect() as c:
            row = c.execute(sa.select(rate_limits).where(rate_limits.c.key == key)).first()
        if row is None or row.window_start + window <= now:
            return 0
        return int(row._mapping["count"])

    def record_failure(self, key: str, now: int, window: int) -> None:
        with self.engine.begin() as c:
            row = c.execute(sa.select(rate_limits).where(rate_limits.c.key == key)).first()
            if row is None:
                try:
                    with c.begin_nested():
                        c.execute(rate_limits.insert().values(key=key, window_start=now, count=1))
                    return
                except sa.exc.IntegrityError:
                    row = c.execute(sa.select(rate_limits).where(rate_limits.c.key == key)).first()
                    assert row is not None
            if row.window_start + window <= now:
                c.execute(rate_limits.update().where(rate_limits.c.key == key).values(window_start=now, count=1))
            else:
                c.execute(rate_limits.update().where(rate_limits.c.key == key)
                          .values(count=rate_limits.c.count + 1))

    def clear_failures(self, key: str) -> None:
        with self.engine.begin() as c:
            c.execute(rate_limits.delete().where(rate_limits.c.key == key))
