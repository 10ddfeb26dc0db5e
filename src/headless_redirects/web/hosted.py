"""The hosted site's identity pages: OAuth authorize (SPEC §5 auth intent), login, logout.

Each page lands through ``FlowService.land`` (unknown / expired / used / other-browser pages),
keeps the hosted site's own session in the HttpOnly, SameSite=Lax cookie ``hr_session`` (set only
when its value changes: a session was bound to a new browser, or the identity behind it changed),
checks the CSRF token of every POST before anything else (cancel included), and answers a POST
with 303.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain.callbacks import add_query, check_callback_url
from ..domain.intents import AppRules, check_against_apps, parse_request
from ..domain.lifecycle import RedirectSession
from ..service.authorize import AuthorizationResponse
from ..service.flows import Browser, FlowError
from ..service.members import APPROVED, LoginFailed, TooManyAttempts
from .i18n import gettext_for
from .pages import page_language, render, render_message
from .services import Services, services_of

__all__ = ["routes"]

COOKIE = "hr_session"
AUTHORIZE_PATH = "/_api/oauth2/authorize"
_REDIRECT_HEADERS = {"referrer-policy": "no-referrer", "cache-control": "no-store"}
_LOGIN_ERRORS = {
    "wrong email or password": "Wrong email or password.",
    "enter a valid email address": "Enter a valid email address.",
    "the password needs at least 8 characters": "The password needs at least 8 characters.",
    "an account with this email already exists": "An account with this email already exists.",
    "this account is not active": "This account is not active yet, or it is blocked.",
    "sign-up on this site needs the site's own form": "Sign up on the site itself: this site checks new accounts.",
}


# --- shared helpers ------------------------------------------------------------------------

async def _browser(request: Request, services: Services) -> Browser:
    return await services.db.run(services.flows.browser, request.cookies.get(COOKIE))


def _with_cookie(response: Response, request: Request, browser: Browser, services: Services) -> Response:
    """Give the browser its cookie when the value is new to it (an error page before landing
    binds nothing, so it goes out without one: a cookieless visit leaves nothing behind)."""
    if request.cookies.get(COOKIE) == browser.token:
        return response
    response.set_cookie(COOKIE, browser.token, max_age=services.settings.browser_session_ttl, path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


def _flow_error_page(request: Request, exc: FlowError) -> Response:
    session = exc.session
    back = session.callbacks.get("postFlowUrl") if session is not None else None
    if back is not None:
        back = add_query(back, {"wixMemberLoggedIn": "false"})
    return render_message(request, exc.status, exc.kind, back_url=back if exc.kind != "other_browser" else None,
                          lang=page_language(request, session.lang if session else None))


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _site_name(services: Services, session: RedirectSession) -> str:
    tenant = services.tenants.tenant(session.site_id)
    return tenant.site.name if tenant is not None else ""


def _login_form(request: Request, services: Services, session: RedirectSession, browser: Browser, *,
                action: str, error: str | None = None, email: str = "", status: int = 200) -> Response:
    lang = page_language(request, session.lang)
    response = render("login.html", status, lang=lang, site_name=_site_name(services, session), action=action,
                      session_id=session.id, csrf=browser.csrf(session.id), email=email, error=error)
    return _with_cookie(response, request, browser, services)


def _forged(request: Request, services: Services, session: RedirectSession, browser: Browser,
            form: Any) -> Response | None:
    """The login form again (403) when a POST does not carry this browser's CSRF token for
    this session, whatever its action (SPEC §8: cancel included); else ``None``."""
    if secrets.compare_digest(str(form.get("csrf", "")), browser.csrf(session.id)):
        return None
    _ = gettext_for(page_language(request, session.lang))
    return _login_form(request, services, session, browser, action=request.url.path, status=403,
                       error=_("The form expired. Please try again."))


async def _attempt(request: Request, services: Services, session: RedirectSession, browser: Browser,
                   form: Any) -> tuple[Browser | None, Response | None]:
    """Handle the login form (its CSRF token already checked by :func:`_forged`): (logged-in
    browser, None), or (None, the form again with why)."""
    _ = gettext_for(page_language(request, session.lang))
    action_path = request.url.path
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    members = services.members
    try:
        if form.get("action") == "signup":
            tenant = await services.db.run(services.tenants.tenant, session.site_id)
            if tenant is not None and tenant.site.registration_policy != "open":
                raise LoginFailed("sign-up on this site needs the site's own form")
            member = await members.sign_up(session.site_id, email, password)
        else:
            member = await members.login(session.site_id, email, password, _client_ip(request))
            if member.status != APPROVED:
                raise LoginFailed("this account is not active")
    except TooManyAttempts as exc:
        message = _("Too many failed attempts. Try again in %(minutes)s minutes.") % {
            "minutes": max(1, exc.retry_after // 60)}
        return None, _login_form(request, services, session, browser, action=action_path, status=429,
                                 error=message, email=email)
    except LoginFailed as exc:
        message = _(_LOGIN_ERRORS.get(str(exc), "Wrong email or password."))
        return None, _login_form(request, services, session, browser, action=action_path, status=400,
                                 error=message, email=email)
    return await services.db.run(services.flows.log_in, browser, member.id, session.site_id), None


def _callback(session: RedirectSession, name: str, logged_in: bool) -> str | None:
    url = session.callbacks.get(name)
    return None if url is None else add_query(url, {"wixMemberLoggedIn": "true" if logged_in else "false"})


# --- OAuth authorize -----------------------------------------------------------------------

async def authorize(request: Request) -> Response:
    services = services_of(request)
    if request.method == "POST":
        form = await request.form()
        session_id = str(form.get("redirectSessionId", ""))
    else:
        form = None
        repeated = _repeated(request)
        if repeated:
            # RFC 6749 §3.1: no parameter more than once. Which of the values would be meant is
            # in doubt (the client? the redirect URI?), so it is an error page, never a redirect.
            return render_message(request, 400, "invalid_request",
                                  f"repeated parameter: {', '.join(repeated)} (RFC 6749 §3.1)")
        session_id = request.query_params.get("redirectSessionId", "")
        if not session_id:
            created = await _session_from_query(request, services)
            if isinstance(created, Response):
                return created
            session_id = created
    browser = await _browser(request, services)
    try:
        session = await services.db.run(services.flows.land, session_id, browser, ("auth",))
    except FlowError as exc:
        return _flow_error_page(request, exc)
    prompt = session.params.get("prompt")
    member = browser.member_on(session.site_id)
    if form is not None:
        forged = _forged(request, services, session, browser, form)
        if forged is not None:
            return forged
        if form.get("action") == "cancel":
            return await _refuse(request, services, session, browser, "access_denied", "the member cancelled the login")
        logged_in, page = await _attempt(request, services, session, browser, form)
        if page is not None:
            return page
        assert logged_in is not None
        return await _deliver_code(request, services, session, logged_in)
    token_hash = session.params.get("sessionTokenHash")
    if prompt == "none" and token_hash:
        # The SDK's direct login (SPEC §11): a member session token, no form, no cookie needed.
        signed_in = await services.db.run(services.identity_api.use_session_token, str(token_hash), session.site_id)
        if signed_in is None:
            return await _refuse(request, services, session, browser, "login_required",
                                 "the session token is invalid, used or expired")
        browser = await services.db.run(services.flows.log_in, browser, signed_in.id, session.site_id)
        return await _deliver_code(request, services, session, browser)
    if prompt == "none":
        if member is None:
            return await _refuse(request, services, session, browser, "login_required", "no member is logged in")
        return await _deliver_code(request, services, session, browser)
    if prompt == "login" or member is None:
        return _login_form(request, services, session, browser, action=AUTHORIZE_PATH)
    return await _deliver_code(request, services, session, browser)


def _repeated(request: Request) -> list[str]:
    names = [name for name, _ in request.query_params.multi_items()]
    return sorted({name for name in names if names.count(name) > 1})


async def _session_from_query(request: Request, services: Services) -> str | Response:
    """A hand-built authorize URL (standard OAuth parameters): validated exactly like the
    ``auth`` intent, stored as a session, and continued as one. Errors never redirect."""
    q = request.query_params
    body = {"auth": {"authRequest": {
        "clientId": q.get("client_id"), "responseType": q.get("response_type"), "redirectUri": q.get("redirect_uri"),
        "scope": q.get("scope"), "state": q.get("state"), "responseMode": q.get("response_mode"),
        "codeChallenge": q.get("code_challenge"), "codeChallengeMethod": q.get("code_challenge_method"),
        "nonce": q.get("nonce"),
    }, "prompt": q.get("prompt")}}
    client_id = (q.get("client_id") or "").lower()
    found = services.tenants.tenant_of_app(client_id) if client_id else None
    parsed, violations = parse_request(body)
    if found is None or parsed is None:
        return render_message(request, 400, "invalid_request", "unknown client_id")
    tenant, _app = found
    rules = {cid: AppRules(cid, tuple(a.allowed_domains), tuple(a.redirect_uris)) for cid, a in tenant.apps.items()}
    violations += check_against_apps(parsed, rules, client_id)
    if violations:
        detail = "; ".join(f"{v.field}: {v.description}" for v in violations)
        return render_message(request, 400, "invalid_request", detail)
    result = await services.db.run(services.sessions.store_session, tenant, parsed, None, None)
    return result.redirectSession.id


async def _deliver_code(request: Request, services: Services, session: RedirectSession, browser: Browser) -> Response:
    member_id = browser.member_on(session.site_id)
    assert member_id is not None
    try:
        response = await services.db.run(services.authorize.grant, session, member_id)
    except FlowError as exc:
        return _with_cookie(_flow_error_page(request, exc), request, browser, services)
    return _deliver(request, services, session, browser, response)


async def _refuse(request: Request, services: Services, session: RedirectSession, browser: Browser, error: str,
                  description: str) -> Response:
    try:
        response = await services.db.run(services.authorize.refuse, session, error, description)
    except FlowError as exc:
        return _with_cookie(_flow_error_page(request, exc), request, browser, services)
    return _deliver(request, services, session, browser, response)


def _deliver(request: Request, services: Services, session: RedirectSession, browser: Browser,
             result: AuthorizationResponse) -> Response:
    """Send the authorization response by the session's response mode (OAuth 2.0 Multiple
    Response Types §2.1, and web_message); the session has ended with it (``service.authorize``)."""
    payload: dict[str, str] = msgspec.to_builtins(result)
    mode = session.params.get("responseMode", "query")
    redirect_uri = session.params.get("redirectUri")
    status = 303 if request.method == "POST" else 302
    if mode == "web_message":
        return _web_message(request, services, session, browser, payload)
    assert redirect_uri is not None  # validated when the session was created
    location = add_query(redirect_uri, payload, fragment=mode == "fragment")
    response = RedirectResponse(location, status, headers=_REDIRECT_HEADERS)
    return _with_cookie(response, request, browser, services)


def _web_message(request: Request, services: Services, session: RedirectSession, browser: Browser,
                 payload: dict[str, str]) -> Response:
    """A page that posts ``payload`` to exactly one origin, and that only that origin may frame:
    the redirect URI's origin, else the embedding page's (from the framed request's Referer),
    which must be an allowed domain of the app. Anything else gets an error page, never ``*``."""
    redirect_uri = session.params.get("redirectUri")
    source = redirect_uri or request.headers.get("referer") or ""
    parts = urlsplit(source)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    tenant = services.tenants.tenant(session.site_id)
    app = tenant.apps.get(str(session.params.get("clientId"))) if tenant is not None else None
    if not origin or app is None or (redirect_uri is None and check_callback_url(origin + "/", app.allowed_domains)):
        return render_message(request, 400, "invalid_request", "the embedding page's origin is not allowed")
    nonce = secrets.token_urlsafe(16)
    headers = {
        "content-security-policy": f"default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors {origin}",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
    }
    response = render("web_message.html", lang=page_language(request, session.lang), headers=headers,
                      message=payload, origin=origin, nonce=nonce)
    return _with_cookie(response, request, browser, services)


# --- login and logout intents --------------------------------------------------------------

async def login(request: Request) -> Response:
    services = services_of(request)
    form = await request.form() if request.method == "POST" else None
    session_id = str(form.get("redirectSessionId", "")) if form is not None else request.query_params.get(
        "redirectSessionId", "")
    browser = await _browser(request, services)
    try:
        session = await services.db.run(services.flows.land, session_id, browser, ("login",))
    except FlowError as exc:
        return _flow_error_page(request, exc)
    if form is None:
        return _login_form(request, services, session, browser, action="/flow/login")
    forged = _forged(request, services, session, browser, form)
    if forged is not None:
        return forged
    if form.get("action") == "cancel":
        return await _end(request, services, session, browser, False, logged_in=False)
    logged_in, page = await _attempt(request, services, session, browser, form)
    if page is not None:
        return page
    assert logged_in is not None
    return await _end(request, services, session, logged_in, True, logged_in=True)


async def logout(request: Request) -> Response:
    services = services_of(request)
    browser = await _browser(request, services)
    try:
        session = await services.db.run(services.flows.land, request.query_params.get("redirectSessionId"),
                                        browser, ("logout",))
    except FlowError as exc:
        return _flow_error_page(request, exc)
    cleared = await services.db.run(services.flows.log_out, session, browser)
    if not cleared:
        return await _end(request, services, session, browser, True, logged_in=False)
    response = await _end(request, services, session, None, True, logged_in=False)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


async def _end(request: Request, services: Services, session: RedirectSession, browser: Browser | None,
               completed: bool, *, logged_in: bool) -> Response:
    try:
        member_id = browser.member_on(session.site_id) if logged_in and browser is not None else None
        outcome: dict[str, object] = {"wixMemberLoggedIn": logged_in}
        if member_id is not None:
            outcome["memberId"] = member_id
        transition = RedirectSession.complete if completed else RedirectSession.abandon
        await services.db.run(services.flows.move, session, transition, outcome)
    except FlowError as exc:
        return _flow_error_page(request, exc)
    target = _callback(session, "postFlowUrl", logged_in)
    if target is None:
        kind = "logged_out" if session.intent == "logout" else ("logged_in" if logged_in else "error")
        response: Response = render_message(request, 200, kind, lang=page_language(request, session.lang))
    else:
        response = RedirectResponse(target, 303 if request.method == "POST" else 302, headers=_REDIRECT_HEADERS)
    return response if browser is None else _with_cookie(response, request, browser, services)


def routes() -> list[Route]:
    return [
        Route(AUTHORIZE_PATH, authorize, methods=["GET", "POST"]),
        Route("/flow/login", login, methods=["GET", "POST"]),
        Route("/flow/logout", logout, methods=["GET"]),
    ]
