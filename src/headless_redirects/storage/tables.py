"""The schema, as SQLAlchemy Core tables. Migrations under ``migrations/`` create it.

Timestamps are integer Unix seconds. Secrets (API keys, refresh tokens, session tokens) are
stored only as SHA-256 hex digests; signing keys are stored whole so every instance shares them.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "idempotency_keys",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_events",
    "api_keys",
    "apps",
    "authorization_codes",
    "browser_sessions",
    "mail_outbox",
    "member_tokens",
    "members",
    "orders",
    "rate_limits",
    "metadata",
    "redirect_sessions",
    "refresh_tokens",
    "revocations",
    "signing_keys",
    "sites",
]

metadata = sa.MetaData()

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("base_url", sa.String(2048)),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("page_settings", sa.JSON, nullable=False),
    sa.Column("flow_provider", sa.String(200), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # Who may join (SPEC §11): open, verify-email or approval.
    sa.Column("registration_policy", sa.String(16), nullable=False, server_default="open"),
)

apps = sa.Table(
    "apps",
    metadata,
    sa.Column("client_id", sa.String(36), primary_key=True),
    sa.Column("site_id", sa.String(36), sa.ForeignKey("sites.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("allowed_domains", sa.JSON, nullable=False),
    sa.Column("redirect_uris", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # Browser origins allowed beyond those derived from the allowed domains (SPEC §10).
    sa.Column("allowed_origins", sa.JSON, nullable=False, server_default="[]"),
    # Unix ms of the last change: instances poll max(updated_at) to refresh what they cache.
    sa.Column("updated_at", sa.BigInteger, nullable=False, server_default="0"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("site_id", sa.String(36), sa.ForeignKey("sites.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("alg", sa.String(16), nullable=False),
    sa.Column("private_pem", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # After retirement a key signs nothing new but verifies until its tokens expire.
    sa.Column("retired_at", sa.BigInteger),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("site_id", sa.String(36), nullable=False),
    sa.Column("client_id", sa.String(36), nullable=False),
    sa.Column("subject_type", sa.String(16), nullable=False),
    sa.Column("subject_id", sa.String(36), nullable=False),
    sa.Column("scope", sa.String(512), nullable=False),
    # Tokens of one chain of rotations share a family; reuse of a rotated token revokes it.
    sa.Column("family_id", sa.String(36), nullable=False),
    # Milliseconds, to compare with ``revocations.revoked_before``.
    sa.Column("issued_at_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("rotated_at", sa.BigInteger),
    sa.Column("revoked_at", sa.BigInteger),
    # Small rows looked up by a random key: one B-tree instead of a table plus an index.
    sqlite_with_rowid=False,
)

# Every token of a subject (logout, code replay) or of a refresh-token family (reuse
# detection) issued before ``revoked_before`` (Unix milliseconds) is dead. Revoking by a row
# here, checked on use, means no token table needs an index by subject or family.
revocations = sa.Table(
    "revocations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("revoked_before", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

redirect_sessions = sa.Table(
    "redirect_sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # Only the primary key is random: each further random index costs every insert a page of
    # write-ahead log. The short code is derived from the id (see domain.sessions).
    sa.Column("site_id", sa.String(36), nullable=False),
    sa.Column("client_id", sa.String(36)),
    sa.Column("intent", sa.String(32), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("callbacks", sa.JSON, nullable=False),
    sa.Column("preferences", sa.JSON, nullable=False),
    sa.Column("origin", sa.String(2048)),
    sa.Column("lang", sa.String(16)),
    sa.Column("creator_type", sa.String(16)),
    sa.Column("creator_id", sa.String(36)),
    sa.Column("session_token_hash", sa.String(64)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("full_url", sa.Text, nullable=False),
    sa.Column("outcome", sa.JSON, nullable=False),
    # Digest of the browser session that opened it first; no other browser may continue it.
    sa.Column("bound_browser", sa.String(64)),
    # Last state change (Unix seconds); None until the first one.
    sa.Column("updated_at", sa.BigInteger),
    # One more on every change (domain.lifecycle): a change is written only from the version it
    # was read at, so two requests racing on one session never both win.
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    # The session API lists a site's sessions newest first: appended at the end, so cheap to keep.
    sa.Index("ix_redirect_sessions_site_created", "site_id", "created_at"),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("site_id", sa.String(36), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    # None for a member a trusted backend signed on, who has not set a password yet.
    sa.Column("password_hash", sa.String(256)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # APPROVED, PENDING (awaiting email verification or the owner's approval) or BLOCKED.
    sa.Column("status", sa.String(16), nullable=False, server_default="APPROVED"),
    sa.Column("email_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("nickname", sa.String(200)),
    sa.Column("language", sa.String(16)),
    sa.Column("updated_at", sa.BigInteger),
    sa.Column("last_login_at", sa.BigInteger),
    sa.UniqueConstraint("site_id", "email", name="uq_members_site_email"),
)

# Single-use secrets of the identity API, stored as SHA-256 digests (SPEC §11): ``session``
# tokens (login, register, sign-on → the authorize page), ``verification`` state tokens (with
# the digest of the emailed code and the tries left) and ``recovery`` tokens (password reset).
member_tokens = sa.Table(
    "member_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("site_id", sa.String(36), nullable=False),
    sa.Column("member_id", sa.String(36), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger),
    sa.Column("code_hash", sa.String(64)),
    sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("data", sa.JSON, nullable=False),
    sqlite_with_rowid=False,
)

# Every email the service sends (SPEC §11). Without SMTP this is the development outbox that
# ``headless-redirects mail list`` reads; with SMTP, the record of what was sent.
mail_outbox = sa.Table(
    "mail_outbox",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("site_id", sa.String(36)),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("subject", sa.String(400), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False, index=True),
    # outbox (no SMTP configured), pending, sent or failed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("sent_at", sa.BigInteger),
    sa.Column("error", sa.Text),
)

# The hosted site's own session, one per browser (cookie ``hr_session``): who the browser is
# (the visitor carried over with maintainIdentity) and which member is logged in there.
browser_sessions = sa.Table(
    "browser_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("visitor_id", sa.String(36)),
    sa.Column("member_id", sa.String(36)),
    sa.Column("member_site_id", sa.String(36)),
    # When the member logged in (Unix ms), to compare with ``revocations.revoked_before``.
    sa.Column("member_since_ms", sa.BigInteger),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

authorization_codes = sa.Table(
    "authorization_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("site_id", sa.String(36), nullable=False),
    sa.Column("client_id", sa.String(36), nullable=False),
    sa.Column("member_id", sa.String(36), nullable=False),
    sa.Column("redirect_uri", sa.String(2048)),
    sa.Column("scope", sa.String(512), nullable=False),
    sa.Column("code_challenge", sa.String(128)),
    sa.Column("code_challenge_method", sa.String(8)),
    sa.Column("nonce", sa.String(512)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    # Set by the one redemption that wins; the grant id names what it issued.
    sa.Column("redeemed_at", sa.BigInteger),
    sa.Column("grant_id", sa.String(36)),
    sqlite_with_rowid=False,
)

# Fixed-window counters of failed logins, per account and per client IP, shared by instances.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("window_start", sa.BigInteger, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)


# Orders placed by the built-in demo flow provider (a real provider keeps its own).
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("site_id", sa.String(36), nullable=False),
    sa.Column("session_id", sa.String(36), nullable=False, unique=True),
    sa.Column("intent", sa.String(32), nullable=False),
    sa.Column("number", sa.String(32), nullable=False),
    sa.Column("event_id", sa.String(36)),
    sa.Column("visitor_id", sa.String(36)),
    sa.Column("member_id", sa.String(36)),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total", sa.String(32), nullable=False),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)


# --- outcomes a client backend can trust (SPEC §12) ---------------------------------------

# Where a site wants its events (Standard Webhooks). The ``whsec_`` secret signs every delivery,
# so it is kept as is (it is shown once, at creation).
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("site_id", sa.String(36), nullable=False, index=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),  # [] = every event type
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # Unix ms of the last change: instances poll max(updated_at) to refresh what they cache.
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("disabled_at", sa.BigInteger),
    sa.Column("disabled_reason", sa.String(400)),
)

# The outbox: one row per event, written in the same transaction as the change it reports.
# ``seq`` orders the events of one session; ``fanned_at`` is set once deliveries exist for it.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("site_id", sa.String(36), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("session_id", sa.String(36)),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("fanned_at", sa.BigInteger),
    # Only a test event goes to a single endpoint.
    sa.Column("endpoint_id", sa.String(36)),
    sa.Index("ix_webhook_events_unfanned", "fanned_at", "seq"),
)

# One row per (event, endpoint): what is left to deliver, claimed with a lease.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("endpoint_id", sa.String(36), nullable=False),
    # The session the event is about ('' for others): events of one session go out in order.
    sa.Column("order_key", sa.String(36), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, delivered, failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False),  # Unix ms
    sa.Column("lease_until", sa.BigInteger),  # Unix ms; a claimed delivery is someone's until then
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_order", "endpoint_id", "order_key", "event_seq"),
)

# Every attempt, for ``webhooks deliveries``.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("delivery_id", sa.String(36), nullable=False, index=True),
    sa.Column("endpoint_id", sa.String(36), nullable=False, index=True),
    sa.Column("event_id", sa.String(40), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),  # Unix ms
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.String(400)),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)

# Idempotency-Key on create session: the first response, kept 24 hours, per caller and key.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),  # SHA-256 of caller + key
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer),  # None while the first request is in flight
    sa.Column("response", sa.Text),
    sa.Column("created_at", sa.BigInteger, nullable=False),  # Unix ms
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),  # Unix seconds
    sqlite_with_rowid=False,
)
