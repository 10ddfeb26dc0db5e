"""A small client site that uses the headless-redirects Python SDK.

    HR_CLIENT_ID=$CLIENT_ID python3 -m uvicorn --app-dir examples/storefront app:app --port 3000

``HR_CLIENT_ID`` is the client id ``headless-redirects serve`` prints (``export CLIENT_ID=...``);
``HR_BASE_URL`` is the service (default http://127.0.0.1:8080) and ``STOREFRONT_URL`` this site
(default http://127.0.0.1:3000), whose ``/callback`` must be a redirect URI of the app.

Visitor tokens live in an HttpOnly cookie (the service verifies them on every call, so a
tampered cookie only hurts whoever tampered with it). "Log in" runs the OAuth flow with PKCE in
the query response mode, "Buy" sends the visitor to a hosted e-commerce checkout, and the
thank-you page shows the order id the service sends back.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import os
import sys
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
    TokenRole,
    Tokens,
    create_async_client,
    redirects,
)

TOKENS, OAUTH = "sf_tokens", "sf_oauth"
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


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}
a.button,button{{padding:.5rem .9rem;border-radius:6px;border:1px solid #3b5bdb;background:#3b5bdb;color:#fff;
text-decoration:none;font:inherit;cursor:pointer}}</style></head>
<body><h1>Storefront</h1>{body}</body></html>""")


def create_app(service_url: str, client_id: str, public_url: str) -> Starlette:
    public_url = public_url.rstrip("/")

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
            return keep_tokens(RedirectResponse(session.full_url, 303), sdk)

    async def thank_you(request: Request) -> Response:
        order_id = html.escape(request.query_params.get("orderId", ""))
        member = request.query_params.get("wixMemberLoggedIn") == "true"
        return _page("Thank you", f'<p>Thank you! Order <code data-testid="order-id">{order_id}</code>'
                                  f'{" (logged in during checkout)" if member else ""}.</p><p><a href="/">Home</a></p>')

    return Starlette(routes=[
        Route("/", home), Route("/login", login), Route("/callback", callback), Route("/logout", logout),
        Route("/buy", buy, methods=["POST"]), Route("/thank-you", thank_you),
    ])


def _from_env() -> Starlette:
    client_id = os.environ.get("HR_CLIENT_ID", "").strip()
    if not client_id:
        # Refuse to start rather than answer every request with an error.
        print("storefront: HR_CLIENT_ID is not set. Set it to the client id `headless-redirects serve` "
              "printed, e.g.  HR_CLIENT_ID=$CLIENT_ID python3 -m uvicorn --app-dir examples/storefront app:app "
              "--port 3000", file=sys.stderr, flush=True)
        raise SystemExit(2)
    return create_app(os.environ.get("HR_BASE_URL", "http://127.0.0.1:8080"), client_id,
                      os.environ.get("STOREFRONT_URL", "http://127.0.0.1:3000"))


def __getattr__(name: str) -> Any:
    # ``uvicorn app:app`` builds the app from the environment; importing the module (as the tests
    # do, to call create_app) needs no environment.
    if name == "app":
        return _from_env()
    raise AttributeError(name)
