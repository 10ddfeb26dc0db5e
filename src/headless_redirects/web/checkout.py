"""The hosted flow pages: checkouts, the product page, the booking page, the thank-you page and
logging in during a flow (SPEC §5). What a page shows and how an order is placed comes from the
site's flow provider, called off the event loop (a provider may wait on a cart or payment API);
outcomes and their parameters from ``domain.outcomes``."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain.intents import INTENT_PATHS, Preferences, SessionRequest, parse_request
from ..domain.outcomes import back_target, callback, completion_parameters
from ..domain.sessions import ABANDONED, COMPLETED, RedirectSession
from ..flows import Buyer, FlowProvider, FlowRequest
from ..flows.demo import encode_checkout_data
from ..service.flows import Browser, FlowError, OtherBrowser, SessionNotFound
from ..service.tokens import Identity
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

T = TypeVar("T")
_log = logging.getLogger(__name__)

FLOW_INTENTS = ("ecomCheckout", "bookingsCheckout", "eventsCheckout", "paidPlansCheckout",
                "ecomOrderPaymentRequest", "storesProduct", "bookingsBook")
_COMPLETE_LABEL = {"ecomOrderPaymentRequest": "Pay", "bookingsCheckout": "Book", "storesProduct": "Add to cart",
                   "bookingsBook": "Continue to checkout"}
_BACK_LABEL = {"ecomCheckout": "Back to cart", "storesProduct": "Back to cart",
               "bookingsCheckout": "Back to services", "bookingsBook": "Back to services",
               "paidPlansCheckout": "Change plan"}


def _flow_request(session: RedirectSession, lang: str) -> FlowRequest:
    return FlowRequest(session.site_id, session.id, session.intent, session.params, lang)


async def _provider_call(fn: Callable[..., T], *args: Any) -> T:
    """A flow provider's call, in a worker thread: whatever I/O it does never blocks the loop."""
    return await anyio.to_thread.run_sync(fn, *args)


def _member_logged_in(session: RedirectSession) -> bool:
    return bool(session.outcome.get("memberLoggedIn"))


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
    logged_in = _member_logged_in(session)
    if action == "login":
        login_url = session.callbacks.get("loginUrl")
        if login_url is not None:
            return _with_cookie(_redirect(callback(login_url, {}, logged_in), request), request, browser, services)
        return _with_cookie(_redirect(_page_url(session, "/flow/sign-in", lang), request), request, browser, services)
    if action == "back":
        target = back_target(session.intent, session.callbacks, _back_params(session), logged_in)
        if target is not None:
            await services.db.run(services.flows.finish, session, ABANDONED, {**session.outcome, "left": "back"})
            return _with_cookie(_redirect(target, request), request, browser, services)
    if action == "cancel" or action == "back":
        return await _leave(request, services, session, browser, lang)
    return await _complete(request, services, session, browser, lang, form.get("choice"))


async def _show(request: Request, services: Services, session: RedirectSession, browser: Browser, lang: str, *,
                status: int = 200, error: str | None = None) -> Response:
    provider = services.provider_for(session.site_id)
    view = await _provider_call(provider.view, _flow_request(session, lang))
    _visitor_id, member_id = services.flows.flow_identity(session, browser)
    member = await services.db.run(services.identity.get_member, member_id) if member_id else None
    back = back_target(session.intent, session.callbacks, _back_params(session), False)
    response = render(
        "flow.html", status, lang=lang, view=view, site_name=_site_name(services, session),
        action=INTENT_PATHS[session.intent], session_id=session.id, csrf=browser.csrf(session.id),
        complete_label=_COMPLETE_LABEL.get(session.intent, "Place order"),
        back_label=_BACK_LABEL.get(session.intent) if back else None,
        member_email=member.email if member else None, error=error,
    )
    return _with_cookie(response, request, browser, services)


async def _leave(request: Request, services: Services, session: RedirectSession, browser: Browser,
                 lang: str) -> Response:
    """Cancel or leave: the session is abandoned and the visitor goes to ``postFlowUrl``."""
    try:
        await services.db.run(services.flows.finish, session, ABANDONED, {**session.outcome, "left": "cancel"})
    except FlowError as exc:
        return _with_cookie(_flow_error_page(request, exc), request, browser, services)
    target = session.callbacks.get("postFlowUrl")
    if target is None:
        return _with_cookie(render_message(request, 200, "cancelled", lang=lang), request, browser, services)
    return _with_cookie(_redirect(callback(target, {}, _member_logged_in(session)), request), request, browser,
                        services)


async def _complete(request: Request, services: Services, session: RedirectSession, browser: Browser, lang: str,
                    choice: Any) -> Response:
    logged_in = _member_logged_in(session)
    if session.intent == "storesProduct":
        await services.db.run(services.flows.finish, session, COMPLETED, {**session.outcome, "addedToCart": True})
        target = session.callbacks.get("cartPageUrl") or session.callbacks.get("postFlowUrl")
        if target is None:
            return _with_cookie(render_message(request, 200, "added", lang=lang),
                                request, browser, services)
        return _with_cookie(_redirect(callback(target, {}, logged_in), request), request, browser, services)
    if session.intent == "bookingsBook":
        return await _continue_to_booking(request, services, session, browser, lang, choice)
    provider = services.provider_for(session.site_id)
    buyer = Buyer(*services.flows.flow_identity(session, browser))
    # The session ends first: a second submission of the form finds it used and orders nothing.
    await services.db.run(services.flows.finish, session, COMPLETED, {**session.outcome, "ordering": True})
    order = await _provider_call(provider.place_order, _flow_request(session, lang), buyer, None)
    params = completion_parameters(session.intent, order)
    member = {"memberId": buyer.member_id} if buyer.member_id else {}
    await services.db.run(services.store.set_outcome, session.id, {**session.outcome, **params, **member})
    target = session.callbacks.get("thankYouPageUrl")
    if target is not None:
        return _with_cookie(_redirect(callback(target, params, logged_in), request), request, browser, services)
    return _with_cookie(_redirect(_page_url(session, "/flow/thank-you", lang), request), request, browser, services)


async def _continue_to_booking(request: Request, services: Services, session: RedirectSession, browser: Browser,
                               lang: str, choice: Any) -> Response:
    """The booking page leads on to a bookings checkout for the chosen slot: a new session with
    the same callbacks and preferences, opened by the same browser. The choice must be one the
    page offered; the slot it leads to comes from the site's provider and is validated like a
    ``bookingsCheckout`` sent to the API, so nothing the visitor posts reaches the new session."""
    provider = services.provider_for(session.site_id)
    flow = _flow_request(session, lang)
    view = await _provider_call(provider.view, flow)
    if not isinstance(choice, str) or choice not in {option.id for option in view.options}:
        return await _show(request, services, session, browser, lang, status=400,
                           error=gettext_for(lang)("Choose a time."))
    follow_up = await _booking_request(provider, flow, choice, session)
    if follow_up is None:
        return await _show(request, services, session, browser, lang, status=400,
                           error=gettext_for(lang)("Choose a time."))
    tenant = services.tenants.tenant(session.site_id)
    assert tenant is not None
    # The checkout continues this flow, so it carries the identity this one does (maintainIdentity).
    creator = None
    if session.creator_type and session.creator_id:
        creator = Identity(session.creator_type, session.creator_id, session.site_id, session.client_id or "", "",
                           0.0, 0.0)
    await services.db.run(services.flows.finish, session, COMPLETED, {**session.outcome, "continued": True})
    created = await services.db.run(services.sessions.store_session, tenant, follow_up, creator, None,
                                    session.client_id)
    return _with_cookie(_redirect(created["redirectSession"]["fullUrl"], request), request, browser, services)


async def _booking_request(provider: FlowProvider, flow: FlowRequest, choice: str,
                           session: RedirectSession) -> SessionRequest | None:
    """The ``bookingsCheckout`` request an offered choice continues to, or ``None`` when the
    provider has none or gives one the API would refuse (logged: that is the provider's bug)."""
    intent = await _provider_call(provider.booking_checkout, flow, choice)
    if intent is None:
        return None
    parsed, violations = parse_request({"bookingsCheckout": intent})
    if parsed is None or violations:
        _log.warning("flow provider %s: the booking of option %r is not a valid bookingsCheckout: %s",
                     type(provider).__name__, choice, "; ".join(f"{v.field}: {v.description}" for v in violations))
        return None
    prefs = session.preferences
    return SessionRequest(
        intent="bookingsCheckout",
        params=parsed.params,
        callbacks=dict(session.callbacks),
        preferences=Preferences(prefs.get("useGenericWixPages", True), prefs.get("maintainIdentity", True),
                                dict(prefs.get("additionalQueryParameters", {})), prefs.get("checkIfPublish", False)),
        origin=session.origin,
    )


async def thank_you(request: Request) -> Response:
    """The hosted thank-you page of a completed checkout, for the browser that completed it."""
    services = services_of(request)
    browser = await _browser(request, services)
    session = await services.db.run(services.store.get_session, request.query_params.get("redirectSessionId", ""))
    try:
        if session is None or session.state != COMPLETED or "orderId" not in session.outcome and \
                "planOrderId" not in session.outcome and "orderNumber" not in session.outcome:
            raise SessionNotFound()
        if session.bound_browser != browser.key:
            raise OtherBrowser(session)
    except FlowError as exc:
        return _flow_error_page(request, exc)
    order = await services.db.run(services.orders.for_session, session.id)
    post_flow = session.callbacks.get("postFlowUrl")
    response = render("thank_you.html", lang=page_language(request, session.lang),
                      site_name=_site_name(services, session), order_number=order.number if order else "",
                      continue_url=callback(post_flow, {}, _member_logged_in(session)) if post_flow else None)
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
    await services.db.run(services.store.set_outcome, session.id, {**session.outcome, "memberLoggedIn": True})
    return _with_cookie(_redirect(back, request), request, logged_in, services)


def routes() -> list[Route]:
    paths = sorted({INTENT_PATHS[i] for i in FLOW_INTENTS})
    return [
        *(Route(path, flow_page, methods=["GET", "POST"]) for path in paths),
        Route("/flow/thank-you", thank_you, methods=["GET"]),
        Route("/flow/sign-in", sign_in, methods=["GET", "POST"]),
    ]
