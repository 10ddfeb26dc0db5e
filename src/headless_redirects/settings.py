"""Settings. Every knob has an environment variable ``HEADLESS_REDIRECTS_<NAME>``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///headless-redirects.db"


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
    # Prometheus metrics at /metrics (a few microseconds a request).
    metrics: bool = True
    log_level: str = "info"
