"""A member as the member API and the webhooks show it (SPEC §11 ``GET /members/v1/members/my``,
SPEC §12 ``member.created``).

Both write the same member, so it is declared once: a Struct whose JSON form, as msgspec
encodes it (lowerCamelCase names, this field order, ``lastLoginDate`` null until a login), is
the documented member. ``web.identity_api`` encodes it for the API; the webhooks put it into
their event body.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from ..storage.identity import MemberRow
from .members import APPROVED, BLOCKED, PENDING
from .session_view import Guid, Instant, rfc3339

__all__ = ["MemberProfile", "MemberView", "member_wire"]

_SLUG = re.compile(r"[^a-z0-9]+")


class MemberProfile(msgspec.Struct, frozen=True):
    nickname: str
    slug: str


class MemberView(msgspec.Struct, frozen=True, rename="camel"):
    """A site member (SPEC §11); ``lastLoginDate`` is null until the member's first login."""

    id: Guid
    login_email: str
    login_email_verified: bool
    status: Annotated[str, msgspec.Meta(extra_json_schema={"enum": [APPROVED, PENDING, BLOCKED]})]
    contact_id: Guid
    profile: MemberProfile
    privacy_status: str
    activity_status: str
    created_date: Instant
    updated_date: Instant
    last_login_date: Instant | None


def member_wire(member: MemberRow) -> MemberView:
    """The member as SPEC §11 shows it; the nickname defaults to the email's local part."""
    nickname = member.nickname or member.email.split("@")[0]
    return MemberView(
        id=member.id,
        login_email=member.email,
        login_email_verified=member.email_verified,
        status=member.status,
        contact_id=member.id,
        profile=MemberProfile(nickname, _SLUG.sub("-", nickname.lower()).strip("-") or member.id[:8]),
        privacy_status="PRIVATE",
        activity_status="ACTIVE",
        created_date=rfc3339(member.created_at),
        updated_date=rfc3339(member.updated_at or member.created_at),
        last_login_date=rfc3339(member.last_login_at) if member.last_login_at else None,
    )
