"""The SDK's identity routes (SPEC §11, ``sdk-identity-wire.md``): register, login, verify,
recovery, sign-on for trusted backends, and the current member.

Success is always HTTP 200 with a JSON body (the SDK treats anything else as failure); errors
are the documented bodies, with the SDK's string codes in ``applicationError.code``. The identity
service answers with Structs; their wire form is written here (``state_wire``, ``sign_on_wire``,
and the member's own JSON form, ``service.member_view``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.errors import ApplicationError, PermissionDenied, Unauthenticated, ValidationFailed
from ..domain.linguist import language_from_header
from ..domain.oauth_errors import InvalidClient, OAuthError
from ..service.identity import INVALID_PASSWORD, SignOn, StateResponse
from ..service.tokens import Identity, act_for
from .responses import decode_json, json_response, read_body
from .services import Services, services_of

__all__ = ["routes"]

AUTHENTICATION = "/_api/iam/authentication/v2"
NO_STORE = {"cache-control": "no-store"}


def state_wire(result: StateResponse) -> dict[str, Any]:
    """The SDK's StateMachineResponse (``sdk-identity-wire.md``); absent tokens are ``null``."""
    return {"state": result.state, "sessionToken": result.session_token, "stateToken": result.state_token,
            "identity": {"id": result.member_id}}


def sign_on_wire(result: SignOn) -> dict[str, Any]:
    return {"sessionToken": result.session_token, "identity": {"id": result.member_id}}


async def _body(request: Request, services: Services) -> dict[str, Any]:
    body = decode_json(await read_body(request, services.settings.max_body_bytes))
    if not isinstance(body, dict):
        raise ApplicationError("INVALID_ARGUMENT", "the body must be a JSON object", 400)
    return body


def _obj(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _email_of(body: dict[str, Any]) -> str:
    return _text(_obj(body, "loginId").get("email"))


async def _caller(request: Request, services: Services) -> Identity:
    """The visitor or member behind the request's access token (raw or ``Bearer``)."""
    credential = (request.headers.get("authorization") or "").strip()
    if credential[:7].lower() == "bearer ":
        credential = credential[7:].strip()
    if not credential:
        raise Unauthenticated("the Authorization header is missing: send the visitor's access token")
    identity = await services.db.read(services.tokens.authenticate, credential)
    act_for(request.scope.setdefault("state", {}), client_id=identity.client_id)
    return identity


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def register(request: Request) -> Response:
    services = services_of(request)
    caller = await _caller(request, services)
    body = await _body(request, services)
    profile = _obj(body, "profile")
    nickname = _text(profile.get("nickname"))[:200] or None
    language = language_from_header(request.headers.get("x-wix-linguist"))
    result = await services.identity_api.register(caller.site_id, _email_of(body), _text(body.get("password")),
                                                  nickname, language)
    return json_response(state_wire(result), headers=NO_STORE)


async def login(request: Request) -> Response:
    services = services_of(request)
    caller = await _caller(request, services)
    try:
        body = await _body(request, services)
    except ValidationFailed:
        # Never a validationError here: the SDK's login() crashes on one (sdk-identity-wire.md).
        raise ApplicationError(INVALID_PASSWORD, "wrong email or password", 400) from None
    result = await services.identity_api.login(caller.site_id, _email_of(body), _text(body.get("password")),
                                               _client_ip(request))
    return json_response(state_wire(result), headers=NO_STORE)


async def verify(request: Request) -> Response:
    services = services_of(request)
    if request.headers.get("authorization"):
        await _caller(request, services)
    body = await _body(request, services)
    result = await services.identity_api.verify(_text(body.get("code")), _text(body.get("stateToken")))
    return json_response(state_wire(result), headers=NO_STORE)


async def send_recovery_email(request: Request) -> Response:
    """Always ``{}`` once the request names a site: whether the email is a member's is not told."""
    services = services_of(request)
    body = await _body(request, services)
    redirect = _obj(body, "redirect")
    client_id = _text(redirect.get("clientId")).lower() or None
    if request.headers.get("authorization"):
        site_id = (await _caller(request, services)).site_id
    else:
        found = await services.db.read(services.tenants.tenant_of_app, client_id) if client_id else None
        if found is None:
            raise Unauthenticated("send the visitor's access token, or redirect.clientId of an app")
        site_id = found[0].site.id
        act_for(request.scope.setdefault("state", {}), client_id=client_id)
    tenant = await services.db.read(services.tenants.tenant, site_id)
    base_url = (tenant.site.base_url if tenant is not None else None) or services.settings.public_url
    await services.identity_api.send_recovery(site_id, _text(body.get("email")), _text(redirect.get("url")) or None,
                                              client_id, base_url)
    return json_response({}, headers=NO_STORE)


async def recover(request: Request) -> Response:
    services = services_of(request)
    body = await _body(request, services)
    result = await services.identity_api.recover(_text(body.get("recoveryToken")), _text(body.get("password")))
    return json_response(state_wire(result.state), headers=NO_STORE)


async def sign_on(request: Request) -> Response:
    """A trusted backend (``Authorization: <access token>,<API key>``) logs a member in by email."""
    services = services_of(request)
    try:
        site_id, _ = await services.db.read(services.tokens.site_of_backend, request.headers.get("authorization"))
    except InvalidClient as exc:
        raise Unauthenticated(exc.description) from None
    except OAuthError as exc:
        raise PermissionDenied(exc.description) from None
    act_for(request.scope.setdefault("state", {}), site_id=site_id)
    body = await _body(request, services)
    profile = _obj(body, "profile")
    result = await services.identity_api.sign_on(
        site_id, _email_of(body), _text(profile.get("nickname"))[:200] or None, body.get("verifyEmail") is True)
    return json_response(sign_on_wire(result), headers=NO_STORE)


async def my_member(request: Request) -> Response:
    services = services_of(request)
    member = await services.identity_api.member(await _caller(request, services))
    return json_response({"member": member}, headers=NO_STORE)


def routes() -> list[Route]:
    return [
        Route(f"{AUTHENTICATION}/register", register, methods=["POST"]),
        Route(f"{AUTHENTICATION}/login", login, methods=["POST"]),
        Route(f"{AUTHENTICATION}/sign-on", sign_on, methods=["POST"]),
        Route("/_api/iam/verification/v1/auth/verify", verify, methods=["POST"]),
        Route("/_api/iam/recovery/v1/send-email", send_recovery_email, methods=["POST"]),
        Route("/_api/iam/recovery/v1/recover", recover, methods=["POST"]),
        Route("/members/v1/members/my", my_member, methods=["GET"]),
    ]
