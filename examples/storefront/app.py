"""A small client site that uses the headless-redirects Python SDK.

With ``headless-redirects serve`` running and its ``export`` lines pasted (``SITE_ID``,
``CLIENT_ID``), in a second terminal:

    export HR_CLIENT_ID=$CLIENT_ID
    export HR_WEBHOOK_SECRET=$(headless-redirects webhooks add --site-id "$SITE_ID" \
        --url http://127.0.0.1:3000/webhooks --event redirect_session.completed --json \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
    python3 -m uvicorn --app-dir examples/storefront app:app --port 3000

Environment:
- ``HR_CLIENT_ID`` (required): the client id ``serve`` prints (``export CLIENT_ID=...``).
- ``HR_WEBHOOK_SECRET`` (required): the ``whsec_`` secret ``webhooks add`` prints (once) for
  the endpoint ``<STOREFRONT_URL>/webhooks``.
- ``HR_BASE_URL``: the service (default http://127.0.0.1:8080).
- ``STOREFRONT_URL``: this site (default http://127.0.0.1:3000), whose ``/callback`` must be a
  redirect URI of the app.

Visitor tokens live in an HttpOnly cookie (the service verifies them on every call, so a
tampered cookie only hurts whoever tampered with it). "Log in" runs the OAuth flow with PKCE in
the query response mode; "Buy" sends the visitor to a hosted e-commerce checkout and remembers
which session that was (a cookie).

The order is confirmed from the webhook, not from the thank-you URL: that URL passes through
the visitor's browser, so its ``orderId`` is whatever the address bar says. The service's signed
``redirect_session.completed`` event arrives at ``POST /webhooks``, which checks it with
``verify_webhook`` (a forged or replayed delivery gets 400) and records the session's outcome;
the thank-you page says "confirmed by the service" only once that record exists, and waits
(refreshing itself) until then. Confirmations are kept in memory: one process; a real shop
keeps them in its database, keyed by the ``webhook-id`` to ignore a repeated delivery.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import os
import sys
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from headless_redirects.client import (
    AccessToken,
    OAuthData,
    OAuthStrategy,
    RefreshToken,
    SessionOutcome,
    TokenRole,
    Tokens,
    WebhookVerificationError,
    create_async_client,
    redirects,
    verify_webhook,
)

TOKENS, OAUTH, CHECKOUT = "sf_tokens", "sf_oauth", "sf_checkout"
# The shop sells one thing. The demo flow provider derives a checkout's contents from its id; this
# id is one it shows as exactly one linen shirt at 49.00 USD, the price on our page.
PRODUCT, PRICE = "Linen shirt", "49.00"
CHECKOUT_ID = "73409e70-79ed-5528-9a98-187090c5a9f9"


def _encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def _decode(value: str | None) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(value or ""))
    except ValueError:
        return None


def _tokens_from(request: Request) -> Tokens | None:
    raw = _decode(request.cookies.get(TOKENS))
    if not isinstance(raw, dict):
        return None
    try:
        return Tokens(AccessToken(raw["access"], int(raw["expires_at"])),
                      RefreshToken(raw["refresh"], TokenRole(raw["role"])))
    except (KeyError, ValueError, TypeError):
        return None


class Confirmations:
    """Outcomes of completed checkouts, as the service's webhooks reported them (in memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcomes: dict[str, SessionOutcome] = {}  # redirect session id → outcome
        self._seen: set[str] = set()  # webhook-ids: a delivery can come twice (at least once)

    def record(self, event_id: str, session_id: str, outcome: SessionOutcome) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen.add(event_id)
            self._outcomes[session_id] = outcome
            return True

    def get(self, session_id: str) -> SessionOutcome | None:
        with self._lock:
            return self._outcomes.get(session_id)


def _page(title: str, body: str, head: str = "") -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>{head}
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}
a.button,button{{padding:.5rem .9rem;border-radius:6px;border:1px solid #3b5bdb;background:#3b5bdb;color:#fff;
text-decoration:none;font:inherit;cursor:pointer}}</style></head>
<body><h1>Storefront</h1>{body}</body></html>""")


def create_app(service_url: str, client_id: str, public_url: str, webhook_secret: str) -> Starlette:
    public_url = public_url.rstrip("/")
    confirmations = Confirmations()

    def client(request: Request) -> Any:
        auth = OAuthStrategy(client_id=client_id, tokens=_tokens_from(request))
        return create_async_client(modules={"redirects": redirects}, auth=auth, base_url=service_url)

    def keep_tokens(response: Response, sdk: Any) -> Response:
        t = sdk.auth.get_tokens()
        if t.access_token.value:
            value = {"access": t.access_token.value, "expires_at": t.access_token.expires_at,
                     "refresh": t.refresh_token.value, "role": t.refresh_token.role.value}
            response.set_cookie(TOKENS, _encode(value), httponly=True, samesite="lax", path="/")
        else:
            response.delete_cookie(TOKENS, path="/")
        return response

    async def home(request: Request) -> Response:
        async with client(request) as sdk:
            # A returning visitor keeps its tokens (renewed when expired): one visitor a browser.
            sdk.auth.set_tokens(await sdk.auth.generate_visitor_tokens(sdk.auth.get_tokens()))
            member = sdk.auth.logged_in()
            status = "member" if member else "visitor"
            account = ('<a class="button" href="/logout" data-testid="logout">Log out</a>' if member else
                       '<a class="button" href="/login" data-testid="login">Log in</a>')
            body = (f'<p>You are a <strong data-testid="status">{status}</strong>.</p>'
                    f'<p><span data-testid="product">{PRODUCT}</span>, <span data-testid="price">{PRICE}</span> USD</p>'
                    f'<form method="post" action="/buy"><button data-testid="buy">Buy</button></form><p>{account}</p>')
            return keep_tokens(_page("Storefront", body), sdk)

    async def login(request: Request) -> Response:
        async with client(request) as sdk:
            data = sdk.auth.generate_oauth_data(f"{public_url}/callback", f"{public_url}/")
            result = await sdk.auth.get_auth_url(data, response_mode="query")
            response = RedirectResponse(result["auth_url"], 303)
            response.set_cookie(OAUTH, _encode(dataclasses.asdict(data)), httponly=True, samesite="lax", path="/")
            return keep_tokens(response, sdk)

    async def callback(request: Request) -> Response:
        raw = _decode(request.cookies.get(OAUTH))
        async with client(request) as sdk:
            parsed = sdk.auth.parse_from_url(str(request.url), "query")
            if not isinstance(raw, dict) or parsed.get("error"):
                return _page("Not logged in", f"<p>Login did not complete: {html.escape(str(parsed.get('error')))}</p>"
                                              '<p><a href="/">Back</a></p>')
            tokens = await sdk.auth.get_member_tokens(parsed["code"], parsed["state"], OAuthData(**raw))
            sdk.auth.set_tokens(tokens)
            response = keep_tokens(RedirectResponse(raw.get("original_uri") or "/", 303), sdk)
            response.delete_cookie(OAUTH, path="/")
            return response

    async def logout(request: Request) -> Response:
        async with client(request) as sdk:
            result = await sdk.auth.logout(f"{public_url}/")
            return keep_tokens(RedirectResponse(result["logout_url"], 303), sdk)

    async def buy(request: Request) -> Response:
        async with client(request) as sdk:
            session = await sdk.redirects.create_redirect_session(
                ecom_checkout={"checkout_id": CHECKOUT_ID},
                callbacks={"thank_you_page_url": f"{public_url}/thank-you", "post_flow_url": f"{public_url}/"},
            )
            response = keep_tokens(RedirectResponse(session.full_url, 303), sdk)
            # Which checkout this browser is in: the thank-you page looks its confirmation up by it.
            response.set_cookie(CHECKOUT, session.id, httponly=True, samesite="lax", path="/")
            return response

    async def thank_you(request: Request) -> Response:
        session_id = request.cookies.get(CHECKOUT, "")
        outcome = confirmations.get(session_id) if session_id else None
        if outcome is None or not outcome.order_id:
            # The orderId in our URL came through the browser; it proves nothing. Wait for the service.
            return _page("Confirming your order",
                         '<p data-testid="confirmation">Thank you! Waiting for the service to confirm your '
                         'order&hellip; This page refreshes itself.</p><p><a href="/">Home</a></p>',
                         head='<meta http-equiv="refresh" content="1">')
        shown = request.query_params.get("orderId")
        note = (f' <span data-testid="url-mismatch">(the address bar said {html.escape(shown)}; the service\'s '
                'record is the one that counts)</span>') if shown and shown != outcome.order_id else ""
        member = " You were logged in during checkout." if outcome.wix_member_logged_in else ""
        return _page("Thank you", f'<p data-testid="confirmation">Thank you! Order <code data-testid="order-id">'
                                  f'{html.escape(outcome.order_id)}</code> is confirmed by the service.{member}'
                                  f'{note}</p><p><a href="/">Home</a></p>')

    async def webhooks(request: Request) -> Response:
        try:
            event = verify_webhook(await request.body(), request.headers, webhook_secret)
        except WebhookVerificationError:
            return Response("the webhook signature does not verify", status_code=400)
        session = event.redirect_session
        if event.type == "redirect_session.completed" and session is not None:
            confirmations.record(event.id, session.id, session.outcome)
        return Response(status_code=204)  # any 2xx: the service stops retrying this delivery

    return Starlette(routes=[
        Route("/", home), Route("/login", login), Route("/callback", callback), Route("/logout", logout),
        Route("/buy", buy, methods=["POST"]), Route("/thank-you", thank_you),
        Route("/webhooks", webhooks, methods=["POST"]),
    ])


def _from_env() -> Starlette:
    client_id = os.environ.get("HR_CLIENT_ID", "").strip()
    secret = os.environ.get("HR_WEBHOOK_SECRET", "").strip()
    public_url = os.environ.get("STOREFRONT_URL", "http://127.0.0.1:3000").rstrip("/")
    problems = []
    # Refuse to start rather than answer every request with an error (or never confirm an order).
    if not client_id:
        problems.append("HR_CLIENT_ID is not set. Set it to the client id `headless-redirects serve` printed "
                        "(export CLIENT_ID=...):  export HR_CLIENT_ID=$CLIENT_ID")
    if not secret.startswith("whsec_"):
        problems.append(("HR_WEBHOOK_SECRET is not set" if not secret else "HR_WEBHOOK_SECRET is not a whsec_ "
                         "secret") + ". Orders are confirmed by the service's webhook; add an endpoint and use "
                        "the secret it prints:  export HR_WEBHOOK_SECRET=$(headless-redirects webhooks add "
                        f"--site-id \"$SITE_ID\" --url {public_url}/webhooks --event redirect_session.completed "
                        "--json | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"secret\"])')")
    if problems:
        for problem in problems:
            print(f"storefront: {problem}", file=sys.stderr, flush=True)
        print("storefront: then start it with  python3 -m uvicorn --app-dir examples/storefront app:app "
              "--port 3000", file=sys.stderr, flush=True)
        raise SystemExit(2)
    return create_app(os.environ.get("HR_BASE_URL", "http://127.0.0.1:8080"), client_id, public_url, secret)


def __getattr__(name: str) -> Any:
    # ``uvicorn app:app`` builds the app from the environment; importing the module (as the tests
    # do, to call create_app) needs no environment.
    if name == "app":
        return _from_env()
    raise AttributeError(name)
