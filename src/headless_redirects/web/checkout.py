"""The hosted flow pages: checkouts, the product page, the booking page, the thank-you page and
logging in during a flow (SPEC §5). What they do is ``service.checkout`` (the provider's view, the
order, the booking continuation) and ``service.flows`` (landing, the session's transitions); this
module reads forms and answers pages and redirects."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain.catalogue import CATALOGUE, FLOW_INTENTS
from ..domain.intents import INTENT_PATHS
from ..domain.lifecycle import RedirectSession
from ..domain.outcomes import back_target, callback
from ..flows.demo import encode_checkout_data
from ..service.checkout import OrderFailed
from ..service.flows import Browser, FlowError
from .hosted import (
    _REDIRECT_HEADERS,
    _attempt,
    _browser,
    _flow_error_page,
    _forged,
    _login_form,
    _site_name,
    _with_cookie,
)
from .i18n import gettext_for
from .pages import page_language, render, render_message
from .services import Services, services_of

__all__ = ["routes"]



def _redirect(url: str, request: Request) -> RedirectResponse:
    return RedirectResponse(url, 303 if request.method == "POST" else 302, headers=_REDIRECT_HEADERS)


def _page_url(session: RedirectSession, path: str, lang: str) -> str:
    return f"{path}?{urlencode({'redirectSessionId': session.id, 'lang': lang})}"


def _back_params(session: RedirectSession) -> dict[str, str]:
    if session.intent == "paidPlansCheckout":
        plan = str(session.params["planId"])
        return {"planIds": plan, "checkoutData": encode_checkout_data(session.id, plan)}
    return {}


async def _land(request: Request, services: Services) -> tuple[Any, Browser, RedirectSession | Response, str]:
    """The form (on POST), the browser, the landed flow session (or the error page to answer)
    and the page's language: what every flow page starts with."""
    form = await request.form() if request.method == "POST" else None
    source: Any = form if form is not None else request.query_params
    browser = await _browser(request, services)
    try:
        session = await services.db.run(services.flows.land, source.get("redirectSessionId"), browser, FLOW_INTENTS)
    except FlowError as exc:
        return form, browser, _flow_error_page(request, exc), "en"
    lang = page_language(None, str(source.get("lang") or session.lang or ""))
    return form, browser, session, lang


async def flow_page(request: Request) -> Response:
    services = services_of(request)
    form, browser, session, lang = await _land(request, services)
    if isinstance(session, Response):
        return session
    if INTENT_PATHS[session.intent] != request.url.path:
        return _with_cookie(render_message(request, 404, "not_found"), request, browser, services)
    if form is None:
        return await _show(request, services, session, browser, lang)
    if not secrets.compare_digest(str(form.get("csrf", "")), browser.csrf(session.id)):
        return await _show(request, services, session, browser, lang, status=403,
                           error=gettext_for(lang)("The form expired. Please try again."))
    action = form.get("action")
    logged_in = session.member_logged_in
    try:
        if action == "login":
            login_url = session.callbacks.get("loginUrl")
            target = callback(login_url, {}, logged_in) if login_url else _page_url(session, "/flow/sign-in", lang)
            return _with_cookie(_redirect(target, request), request, browser, services)
        if action == "back":
            back = back_target(session.intent, session.callbacks, _back_params(session), logged_in)
            if back is not None:
                await services.db.run(services.flows.move, session, RedirectSession.abandon, {"left": "back"})
                return _with_cookie(_redirect(back, request), request, browser, services)
        if action in ("cancel", "back"):
            return await _leave(request, services, session, browser, lang)
        return await _complete(request, services, session, browser, lang, form.get("choice"))
    except OrderFailed:
        return await _show(request, services, session, browser, lang, status=502,
                           error=gettext_for(lang)("The order could not be placed. Please try again."))
    except FlowError as exc:
        return _with_cookie(_flow_error_page(request, exc), request, browser, services)


async def _show(request: Request, services: Services, session: RedirectSession, browser: Browser, lang: str, *,
                status: int = 200, error: str | None = None) -> Response:
    page = await services.checkout.page(session, browser, lang)
    entry = CATALOGUE[session.intent]
    back = back_target(session.intent, session.callbacks, _back_params(session), False)
    response = render(
        "flow.html", status, lang=lang, view=page.view, site_name=_site_name(services, session),
        action=entry.path, session_id=session.id, csrf=browser.csrf(session.id),
        complete_label=entry.complete_label, back_label=entry.back_label if back else None,
        member_email=page.member_email, error=error,
    )
    return _with_cookie(response, request, browser, services)


async def _leave(request: Request, services: Services, session: RedirectSession, browser: Browser,
                 lang: str) -> Response:
    """Cancel or leave: the session is abandoned and the visitor goes to ``postFlowUrl``."""
    await services.db.run(services.flows.move, session, RedirectSession.abandon, {"left": "cancel"})
    target = session.callbacks.get("postFlowUrl")
    if target is None:
        return _with_cookie(render_message(request, 200, "cancelled", lang=lang), request, browser, services)
    return _with_cookie(_redirect(callback(target, {}, session.member_logged_in), request), request, browser,
                        services)


async def _complete(request: Request, services: Services, session: RedirectSession, browser: Browser, lang: str,
                    choice: Any) -> Response:
    logged_in = session.member_logged_in
    if session.intent == "storesProduct":
        await services.db.run(services.flows.move, session, RedirectSession.complete, {"addedToCart": True})
        target = session.callbacks.get("cartPageUrl") or session.callbacks.get("postFlowUrl")
        if target is None:
            return _with_cookie(render_message(request, 200, "added", lang=lang), request, browser, services)
        return _with_cookie(_redirect(callback(target, {}, logged_in), request), request, browser, services)
    if session.intent == "bookingsBook":
        url = await services.checkout.book(session, lang, choice)
        if url is None:
            return await _show(request, services, session, browser, lang, status=400,
                               error=gettext_for(lang)("Choose a time."))
        return _with_cookie(_redirect(url, request), request, browser, services)
    placed = await services.checkout.place_order(session, browser, lang)
    target = session.callbacks.get("thankYouPageUrl")
    if target is not None:
        return _with_cookie(_redirect(callback(target, placed.params, logged_in), request), request, browser,
                            services)
    return _with_cookie(_redirect(_page_url(session, "/flow/thank-you", lang), request), request, browser, services)


async def thank_you(request: Request) -> Response:
    """The hosted thank-you page of a completed checkout, for the browser that completed it."""
    services = services_of(request)
    browser = await _browser(request, services)
    try:
        done = await services.checkout.thank_you(request.query_params.get("redirectSessionId", ""), browser)
    except FlowError as exc:
        return _flow_error_page(request, exc)
    session = done.session
    post_flow = session.callbacks.get("postFlowUrl")
    response = render("thank_you.html", lang=page_language(request, session.lang),
                      site_name=_site_name(services, session), order_number=done.order_number,
                      continue_url=callback(post_flow, {}, session.member_logged_in) if post_flow else None)
    return _with_cookie(response, request, browser, services)


async def sign_in(request: Request) -> Response:
    """Logging in during a flow: the hosted login, then back to the same flow page."""
    services = services_of(request)
    form, browser, session, lang = await _land(request, services)
    if isinstance(session, Response):
        return session
    back = _page_url(session, INTENT_PATHS[session.intent], lang)
    if form is None:
        return _login_form(request, services, session, browser, action="/flow/sign-in")
    forged = _forged(request, services, session, browser, form)
    if forged is not None:
        return forged
    if form.get("action") == "cancel":
        return _with_cookie(_redirect(back, request), request, browser, services)
    logged_in, page = await _attempt(request, services, session, browser, form)
    if page is not None:
        return page
    assert logged_in is not None
    if not session.member_logged_in:
        try:
            await services.db.run(services.flows.move, session, RedirectSession.note_login)
        except FlowError as exc:
            return _with_cookie(_flow_error_page(request, exc), request, logged_in, services)
    return _with_cookie(_redirect(back, request), request, logged_in, services)


def routes() -> list[Route]:
    paths = sorted({INTENT_PATHS[i] for i in FLOW_INTENTS})
    return [
        *(Route(path, flow_page, methods=["GET", "POST"]) for path in paths),
        Route("/flow/thank-you", thank_you, methods=["GET"]),
        Route("/flow/sign-in", sign_in, methods=["GET", "POST"]),
    ]
