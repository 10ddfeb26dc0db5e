"""Sites, OAuth apps and API keys: creating them, and reading them through a short cache."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..domain.callbacks import UrlProblem, normalize_domain, parse_absolute_url
from ..domain.intents import AppRules
from ..domain.origins import normalize_origin
from ..storage.changes import ALL, ChangeFeed
from ..storage.repository import Store
from ..storage.tenancy import ApiKeyRow, AppRow, SiteRow
from .secrets import digest, new_secret

__all__ = [
    "API_KEY_SCOPE",
    "REVOCATION_SECONDS",
    "NewTenant",
    "Tenant",
    "TenantCache",
    "create_tenant",
    "new_api_key",
    "new_app",
]

API_KEY_SCOPE = "SCOPE.PROMOTE.VIEW-SEO"
# How long a process may answer from memory that an API key is not revoked: a key revoked
# anywhere (another instance, the CLI) stops within this time even with no notification (SQLite).
REVOCATION_SECONDS = 0.5
DEFAULT_LANGUAGES = ["en", "de"]


@dataclass(frozen=True, slots=True)
class NewTenant:
    site_id: str
    client_id: str
    api_key: str

    def to_wire(self) -> dict[str, str]:
        return {"siteId": self.site_id, "clientId": self.client_id, "apiKey": self.api_key}


@dataclass(frozen=True, slots=True)
class Tenant:
    """A site with its apps, as the hot path needs them, and the apps' rules for Create Redirect
    Session compiled once (the tenant is rebuilt whenever a site or app changes)."""

    site: SiteRow
    apps: dict[str, AppRow]
    rules: dict[str, AppRules] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", {
            cid: AppRules(cid, tuple(app.allowed_domains), tuple(app.redirect_uris)) for cid, app in self.apps.items()
        })


def create_tenant(
    store: Store,
    *,
    name: str,
    public_url: str | None,
    allowed_domains: Sequence[str],
    redirect_uris: Sequence[str],
    flow_provider: str = "demo",
    allowed_origins: Sequence[str] = (),
) -> NewTenant:
    """Create a site, one OAuth app and one API key (scope ``SCOPE.PROMOTE.VIEW-SEO``)."""
    for origin in allowed_origins:
        normalize_origin(origin)  # raises ValueError with the reason
    for uri in redirect_uris:
        parsed = parse_absolute_url(uri)
        if isinstance(parsed, UrlProblem):
            raise ValueError(f"redirect URI {uri!r} {parsed.description}")
    if public_url is not None:
        parsed = parse_absolute_url(public_url)
        if isinstance(parsed, UrlProblem):
            raise ValueError(f"public URL {public_url!r} {parsed.description}")
    now = int(time.time())
    site = SiteRow(
        id=str(uuid.uuid4()),
        name=name,
        base_url=public_url.rstrip("/") if public_url else None,
        languages=list(DEFAULT_LANGUAGES),
        page_settings={},
        flow_provider=flow_provider,
        created_at=now,
    )
    app = new_app(site.id, f"{name} app", allowed_domains=allowed_domains, redirect_uris=redirect_uris,
                  allowed_origins=allowed_origins)
    key, api_key = new_api_key(site.id, f"{name} key")
    store.tenancy.create_tenant(site, app, key)
    return NewTenant(site.id, app.client_id, api_key)


def new_app(site_id: str, name: str, *, allowed_domains: Sequence[str], redirect_uris: Sequence[str],
            allowed_origins: Sequence[str] = ()) -> AppRow:
    """An OAuth app (a new client id) to store; ``ValueError`` for a bad origin."""
    return AppRow(
        client_id=str(uuid.uuid4()),
        site_id=site_id,
        name=name,
        allowed_domains=sorted({normalize_domain(d) for d in allowed_domains if d.strip()}),
        redirect_uris=list(dict.fromkeys(redirect_uris)),
        created_at=int(time.time()),
        allowed_origins=list(dict.fromkeys(normalize_origin(o) for o in allowed_origins)),
        updated_at=time.time_ns() // 1_000_000,
    )


def new_api_key(site_id: str, name: str, scopes: Sequence[str] = ()) -> tuple[ApiKeyRow, str]:
    """An API key to store (its digest) and the key itself, to show once; scope
    ``SCOPE.PROMOTE.VIEW-SEO`` unless ``scopes`` says otherwise."""
    secret = new_secret("hrk_")
    key = ApiKeyRow(
        id=str(uuid.uuid4()),
        key_hash=digest(secret),
        site_id=site_id,
        name=name,
        scopes=list(dict.fromkeys(scopes or [API_KEY_SCOPE])),
        created_at=int(time.time()),
        revoked_at=None,
    )
    return key, secret


class TenantCache:
    """Sites and apps change rarely and are read on every request: keep them for a few seconds.

    The database stays the source of truth. On PostgreSQL a change reaches every instance's
    cache as it commits (``changes``: the cache is emptied); otherwise, and as a backstop,
    within ``ttl`` seconds (``HEADLESS_REDIRECTS_TENANT_CACHE_SECONDS``, 0 turns the cache off).
    """

    def __init__(self, store: Store, ttl: float, changes: ChangeFeed | None = None) -> None:
        self.store = store
        self.ttl = ttl
        # A revoked key must stop working within a second on every instance, notified or not.
        self.key_ttl = min(ttl, REVOCATION_SECONDS)
        self._tenants: dict[str, tuple[float, Tenant | None]] = {}
        self._app_sites: dict[str, tuple[float, str | None]] = {}
        self._keys: dict[str, tuple[float, ApiKeyRow | None]] = {}
        self._key_generation = 0
        self.clock = time.monotonic  # of the API keys' memory; tests move it on
        if changes is not None:
            changes.subscribe(self._changed)

    def _changed(self, table: str) -> None:
        if table in ("sites", "apps", ALL):
            # New dictionaries rather than clear(): a reader on the loop keeps a whole one.
            self._tenants, self._app_sites = {}, {}
        if table in ("api_keys", ALL):
            self._key_generation += 1
            self._keys = {}

    def apps_since(self, known: tuple[int, int] | None) -> tuple[tuple[int, int], list[AppRow]] | None:
        """Every app and the apps table's fingerprint, or ``None`` while the fingerprint is still
        ``known``: one cheap query when nothing changed (CORS reads this about once a second)."""
        fingerprint = self.store.tenancy.apps_fingerprint()
        if fingerprint == known:
            return None
        return fingerprint, self.store.tenancy.all_apps()

    def api_key(self, key_hash: str) -> ApiKeyRow | None:
        """The API key with this digest (revoked or not), remembered for ``key_ttl`` seconds."""
        now = self.clock()
        hit = self._keys.get(key_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._key_generation
        key = self.store.tenancy.api_key(key_hash)
        # Read before a change was announced: not kept, or it would outlive the change.
        if self.key_ttl > 0 and generation == self._key_generation:
            if len(self._keys) > 10_000:
                self._keys = {}
            self._keys[key_hash] = (now + self.key_ttl, key)
        return key

    def tenant(self, site_id: str) -> Tenant | None:
        now = time.monotonic()
        hit = self._tenants.get(site_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        site = self.store.tenancy.get_site(site_id)
        tenant = None if site is None else Tenant(site, {a.client_id: a for a in self.store.tenancy.site_apps(site_id)})
        if self.ttl > 0:
            if len(self._tenants) > 10_000:
                self._tenants.clear()
            self._tenants[site_id] = (now + self.ttl, tenant)
        return tenant

    def tenant_of_app(self, client_id: str) -> tuple[Tenant, AppRow] | None:
        now = time.monotonic()
        hit = self._app_sites.get(client_id)
        if hit is not None and hit[0] > now:
            site_id = hit[1]
        else:
            app = self.store.tenancy.get_app(client_id)
            site_id = None if app is None else app.site_id
            if self.ttl > 0:
                if len(self._app_sites) > 10_000:
                    self._app_sites.clear()
                self._app_sites[client_id] = (now + self.ttl, site_id)
        if site_id is None:
            return None
        tenant = self.tenant(site_id)
        if tenant is None or client_id not in tenant.apps:
            return None
        return tenant, tenant.apps[client_id]
