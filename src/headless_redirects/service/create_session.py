"""Create Redirect Session (SPEC §3): authenticate the caller, validate, store, answer."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

import msgspec

from ..domain.callbacks import MAX_URL_LENGTH
from ..domain.errors import FieldViolation, PermissionDenied, Rule, Unauthenticated, ValidationFailed
from ..domain.intent_shapes import fast_request
from ..domain.intents import AUTH_INTENT, SessionRequest, check_against_apps, destination, parse_request
from ..domain.lifecycle import CREATED, RedirectSession
from ..domain.linguist import language_from_header
from ..domain.sessions import new_session_id, short_code
from ..settings import Settings
from .secrets import digest, new_secret
from .session_view import Guid
from .tenancy import API_KEY_SCOPE, Tenant, TenantCache
from .tokens import Identity, TokenService
from .unit_of_work import UnitOfWork

__all__ = ["Caller", "CreateResponse", "CreatedSession", "SessionService", "UrlDetails"]

_encode = msgspec.json.Encoder().encode
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
# Access tokens that had the JWT shape and authenticated: a token is sent again and again (the
# SDK keeps it for hours), and the shape's pattern costs a create ~14,500 instructions on a
# token of 500 characters (``bench/instructions.py``) where a look-up in a set costs ~200.
SHAPED_KEPT = 10_000
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"


def _quote(value: str) -> str:
    """``urllib.parse.quote(value, safe="")``, as ``urlencode`` applies it, without its call
    chain for the usual value that needs no escaping (GUIDs, slugs): an ASCII value that is
    nothing but unreserved characters once they are deleted (one C call each, where a pattern
    tested the value a character at a time)."""
    if value.isascii() and not value.encode().translate(None, _UNRESERVED):
        return value
    return quote(value, safe="")


class Caller(msgspec.Struct, frozen=True):
    """Who asks: a visitor/member (through its access token) or a site's API key."""

    tenant: Tenant
    client_id: str | None
    identity: Identity | None
    api_key_id: str | None = None


class UrlDetails(msgspec.Struct, frozen=True):
    endpoint: str
    searchParams: dict[str, str]  # noqa: N815 - the wire's name


class CreatedSession(msgspec.Struct, frozen=True, omit_defaults=True):
    """The Create Redirect Session answer's ``redirectSession`` (SPEC §3); ``sessionToken``
    only for a session created with a visitor's or member's token."""

    id: Guid
    fullUrl: Annotated[str, msgspec.Meta(max_length=MAX_URL_LENGTH)]  # noqa: N815
    urlDetails: UrlDetails  # noqa: N815
    shortUrl: str  # noqa: N815
    sessionToken: Annotated[str, msgspec.Meta(  # noqa: N815
        description="a single-use token that carries the creator's identity into the flow")] | None = None


class CreateResponse(msgspec.Struct, frozen=True):
    redirectSession: CreatedSession  # noqa: N815


class SessionService:
    def __init__(self, uow: Callable[[], UnitOfWork], short_links: Callable[[str], tuple[str, int] | None],
                 tenants: TenantCache, tokens: TokenService, settings: Settings) -> None:
        self.uow = uow
        self.short_links = short_links
        self.tenants = tenants
        self.tokens = tokens
        self.settings = settings
        self._shaped: set[str] = set()  # credentials that had the JWT shape (``SHAPED_KEPT``)

    def authenticate(self, authorization: str | None, site_id: str | None) -> Caller:
        """SPEC §3: an access token (raw or ``Bearer``), or an API key plus ``wix-site-id``."""
        credential = (authorization or "").strip()
        if credential[:7].lower() == "bearer ":
            credential = credential[7:].strip()
        if not credential:
            raise Unauthenticated("the Authorization header is missing")
        shaped = credential in self._shaped
        if shaped or _JWT_SHAPE.match(credential):
            identity = self.tokens.authenticate(credential)
            found = self.tenants.tenant_of_app(identity.client_id)
            if found is None or found[0].site.id != identity.site_id:
                raise Unauthenticated("the token's app no longer exists")
            if not shaped:  # kept once it authenticated: junk of the right shape is not
                if len(self._shaped) >= SHAPED_KEPT:
                    self._shaped.clear()
                self._shaped.add(credential)
            return Caller(found[0], identity.client_id, identity)
        key = self.tenants.api_key(digest(credential))
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("the access token or API key is invalid")
        if not site_id:
            raise Unauthenticated("an API key needs the wix-site-id header")
        if key.site_id != site_id.strip().lower():
            raise PermissionDenied("the API key does not belong to the site in wix-site-id")
        if API_KEY_SCOPE not in key.scopes:
            raise PermissionDenied(f"the API key lacks the {API_KEY_SCOPE} scope")
        tenant = self.tenants.tenant(key.site_id)
        if tenant is None:
            raise PermissionDenied("the site in wix-site-id does not exist")
        return Caller(tenant, None, None, key.id)

    def create_fast(self, caller: Caller, raw: bytes, linguist: str | None,
                    idempotency_key_hash: str | None = None) -> tuple[CreateResponse, str] | None:
        """Create from the raw body when it is a common shape that breaks no rule (the response
        and the intent); ``None`` when the full validator must decide (:meth:`create`): what
        it answers, with every violation, is the answer."""
        request = fast_request(raw)
        if request is None or check_against_apps(request, caller.tenant.rules, caller.client_id):
            return None
        response = self.store_session(caller.tenant, request, caller.identity, linguist, caller.client_id,
                                      idempotency_key_hash)
        return response, request.intent

    def create(self, caller: Caller, body: Any, linguist: str | None,
               idempotency_key_hash: str | None = None) -> CreateResponse:
        request, violations = parse_request(body)
        if request is not None:
            violations += check_against_apps(request, caller.tenant.rules, caller.client_id)
        if violations or request is None:
            raise ValidationFailed(violations)

        return self.store_session(caller.tenant, request, caller.identity, linguist, caller.client_id,
                                  idempotency_key_hash)

    def store_session(self, tenant: Tenant, request: SessionRequest, identity: Identity | None,
                      linguist: str | None, caller_client_id: str | None = None,
                      idempotency_key_hash: str | None = None) -> CreateResponse:
        """Store a validated request as a new session; its answer. With an idempotency key, the
        answer is stored in the same transaction as the session."""
        session, response = self.new_session(tenant, request, identity, linguist, caller_client_id)
        with self.uow() as uow:
            uow.sessions.add(session)
            if idempotency_key_hash is not None:
                uow.answers.add(idempotency_key_hash, 200, _encode(response).decode())
            uow.commit()
        return response

    def new_session(self, tenant: Tenant, request: SessionRequest, identity: Identity | None, linguist: str | None,
                    caller_client_id: str | None = None) -> tuple[RedirectSession, CreateResponse]:
        """The session a validated request makes, not yet stored, and the answer that reports it."""
        site = tenant.site
        session_id = new_session_id()
        header_lang = language_from_header(linguist)
        base_url = site.base_url or self.settings.public_url
        endpoint, params = destination(request, session_id, base_url, site.page_settings, header_lang)
        full_url = endpoint + "?" + "&".join([_quote(k) + "=" + _quote(v) for k, v in params.items()])
        if len(full_url) > MAX_URL_LENGTH:
            raise ValidationFailed([FieldViolation(
                "preferences.additionalQueryParameters",
                f"the session URL would be {len(full_url)} characters; at most {MAX_URL_LENGTH} are allowed",
                Rule.MAX_LENGTH,
                {"max": MAX_URL_LENGTH},
            )])

        now = int(time.time())
        session_token = new_secret("hrs_") if identity is not None else None
        ttl = self.settings.auth_session_ttl if request.intent == AUTH_INTENT else self.settings.session_ttl
        stored_params = dict(request.params)
        if "sessionToken" in stored_params:
            # A member session token (SPEC §11) is a bearer secret: only its digest is kept.
            stored_params["sessionTokenHash"] = digest(str(stored_params.pop("sessionToken")))
        if request.prompt is not None:
            stored_params["prompt"] = request.prompt
        session = RedirectSession(
            id=session_id,
            site_id=site.id,
            client_id=request.intent_client_id or caller_client_id,
            intent=request.intent,
            params=stored_params,
            callbacks=request.callbacks,
            preferences=request.preferences.to_wire(),
            origin=request.origin,
            lang=params.get("lang"),
            creator_type=identity.subject_type if identity else None,
            creator_id=identity.subject_id if identity else None,
            state=CREATED,
            created_at=now,
            expires_at=now + ttl,
            full_url=full_url,
            session_token_hash=digest(session_token) if session_token else None,
            outcome={},
        )
        created = CreatedSession(session_id, full_url, UrlDetails(endpoint, params),
                                 f"{self.settings.public_url.rstrip('/')}/r/{short_code(session_id)}", session_token)
        return session, CreateResponse(created)

    def short_link(self, code: str) -> tuple[str, int] | None:
        """``(full URL, expires_at)`` of the session behind a short link's code."""
        return self.short_links(code)
