"""Settings. Every knob has an environment variable ``HEADLESS_REDIRECTS_<NAME>``."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "LOG_LEVELS", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///headless-redirects.db"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEADLESS_REDIRECTS_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Where this service is reached by browsers; hosted pages and short links are built on it.
    public_url: str = "http://127.0.0.1:8080"

    access_token_ttl: int = Field(default=14400, ge=60, description="access token lifetime, seconds")
    refresh_token_ttl: int = Field(default=60 * 60 * 24 * 30, ge=60)
    session_ttl: int = Field(default=3600, ge=10, description="flow session lifetime, seconds")
    auth_session_ttl: int = Field(default=600, ge=10, description="auth session lifetime, seconds")
    code_ttl: int = Field(default=600, ge=10, le=600, description="authorization code lifetime, seconds")
    # A checkout whose order was requested this long ago with no answer (the process placing it
    # died) may be submitted again by its browser; providers are idempotent per session.
    order_retry_after: int = Field(default=120, ge=1, description="seconds before a stalled order may be retried")
    # The hosted site's login session (cookie hr_session).
    browser_session_ttl: int = Field(default=60 * 60 * 24 * 30, ge=60)
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=20, ge=1)
    login_failure_window: int = Field(default=900, ge=1, description="seconds")
    # RFC 9700 §4.14.2 rotation with reuse detection. The official JS SDK keeps its first
    # refresh token after a refresh, so it is NOT compatible with this mode.
    strict_refresh_rotation: bool = False
    # How long an instance trusts what it read of a site or app before reading it again.
    tenant_cache_seconds: float = Field(default=5.0, ge=0)
    max_body_bytes: int = 64 * 1024
    # --- identity API and email (SPEC §11)
    # smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...; unset: the log and the
    # development outbox (``headless-redirects mail list``).
    smtp_url: str | None = None
    mail_from: str = "headless-redirects <no-reply@localhost>"
    session_token_ttl: int = Field(default=600, ge=10, le=600, description="member session token lifetime, seconds")
    verification_code_ttl: int = Field(default=900, ge=60, description="emailed verification code lifetime, seconds")
    recovery_token_ttl: int = Field(default=3600, ge=60, le=86400, description="password reset link lifetime, seconds")
    # --- outcomes a client backend can trust (SPEC §12)
    # Seconds before each retry of a failed webhook delivery, comma-separated; empty: about
    # three days (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 1 d, 1 d), each with ±20 % jitter.
    webhook_retry_schedule: str = ""
    # How often an idle dispatcher looks for due deliveries (it also wakes on each new event).
    webhook_poll_interval: float = Field(default=1.0, gt=0, le=60)
    # Run the webhook dispatcher and expiry sweeper in this process.
    webhook_dispatcher: bool = True
    idempotency_ttl: int = Field(default=86400, ge=60, description="how long an Idempotency-Key is kept, seconds")
    # --- scale-out (SPEC §13)
    # Optional. With it, API rate limits and failed-login counters are shared by every instance.
    redis_url: str | None = None
    # API rate limits in the ``limits`` notation ("1000/second", "100 per minute"); empty: none.
    api_rate_limit_per_site: str = ""
    api_rate_limit_per_key: str = ""
    # Connections each worker keeps to PostgreSQL (its async pool).
    database_pool_size: int = Field(default=10, ge=1, le=100)
    # SQLite: how much of the database file the hot path's read connections map into memory
    # (PRAGMA mmap_size), read without a system call or a copy a page; 0 reads every page with
    # pread. Mapped pages are the OS's file cache: they count in the worker's RSS, up to this.
    sqlite_read_mmap_mib: int = Field(default=1024, ge=0, le=2047)
    # Prometheus metrics at /metrics (a few microseconds a request).
    metrics: bool = True
    log_level: str = "info"
    # --- operations (issue 13)
    # ``serve``: where to listen and how many worker processes to run.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    # json: one JSON object a line (for a log collector); text: the same fields for a human.
    log_format: Literal["json", "text"] = "json"
    # One line per request at info level: method, route template, status, duration, client IP, id.
    access_log: bool = True
    # Addresses or networks (comma-separated) of the proxies in front of the service. Only from
    # them are X-Forwarded-For, X-Forwarded-Proto and x-request-id believed.
    trusted_proxies: str = ""

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value

    @field_validator("api_rate_limit_per_site", "api_rate_limit_per_key")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        if value.strip():
            from limits import parse

            parse(value)  # raises ValueError naming what it could not read
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        if isinstance(value, str):
            value = ",".join(p.strip() for p in value.split(",") if p.strip())
            for part in value.split(",") if value else []:
                ipaddress.ip_network(part, strict=False)  # raises ValueError: an address or network
        return value

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies.split(",") if p)
