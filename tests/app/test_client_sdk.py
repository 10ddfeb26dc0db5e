"""The Python client SDK against the app in process (httpx's ASGI transport), the sync client
against a live server, error mapping, renewal on expiry, and retries that stop."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from headless_redirects.client import (
    AccessToken,
    APIError,
    ApiKeyStrategy,
    AuthenticationError,
    ConnectionFailed,
    OAuthError,
    OAuthStrategy,
    PermissionDenied,
    RetryPolicy,
    TokenRole,
    Tokens,
    ValidationError,
    create_async_client,
    create_client,
    redirects,
)
from headless_redirects.service.grants.authorization_code import new_code_row
from tests.conftest import GUID, PUBLIC_URL, World
from tests.identity import EMAIL, PASSWORD
from tests.live import Live, live_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _async_client(world: World, auth: OAuthStrategy | ApiKeyStrategy):  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=world.client.app)
    return create_async_client(modules={"redirects": redirects}, auth=auth, base_url=PUBLIC_URL,
                               http=httpx.AsyncClient(transport=transport))


async def test_visitor_tokens_are_automatic_and_sessions_are_typed(world: World) -> None:
    auth = OAuthStrategy(client_id=world.tenant.client_id)
    async with _async_client(world, auth) as client:
        session = await client.redirects.create_redirect_session(
            ecom_checkout={"checkout_id": GUID},
            callbacks={"post_flow_url": "https://shop.example.com/after"},
            preferences={"additional_query_parameters": {"utm_source": "mail", "with_underscore": "kept"}},
        )
    assert session.full_url.startswith(f"{PUBLIC_URL}/flow/ecom-checkout?")
    assert session.url_details.search_params["with_underscore"] == "kept"  # map keys are data, not renamed
    assert session.short_url and session.session_token
    tokens = auth.get_tokens()
    assert tokens.refresh_token.role == TokenRole.VISITOR and not auth.logged_in()
    stored = world.services.store.sessions.get(session.id)
    assert stored is not None and stored.callbacks == {"postFlowUrl": "https://shop.example.com/after"}


async def test_generate_visitor_tokens_and_renew(world: World) -> None:
    auth = OAuthStrategy(client_id=world.tenant.client_id)
    async with _async_client(world, auth) as client:
        tokens = await client.auth.generate_visitor_tokens()
        assert await client.auth.generate_visitor_tokens(tokens) is tokens  # still valid: unchanged
        renewed = await client.auth.renew_token(tokens.refresh_token)
    keys = world.services.keys
    assert keys.verify(renewed.access_token.value)["sub"] == keys.verify(tokens.access_token.value)["sub"]
    assert renewed.refresh_token == tokens.refresh_token


async def test_an_expired_access_token_is_renewed_through_the_refresh_token(world: World) -> None:
    auth = OAuthStrategy(client_id=world.tenant.client_id)
    async with _async_client(world, auth) as client:
        first = await client.auth.generate_visitor_tokens()
        client.auth.set_tokens(Tokens(AccessToken(first.access_token.value, int(time.time()) - 10),
                                      first.refresh_token))
        session = await client.redirects.create_redirect_session(login={})
    stored = world.services.store.sessions.get(session.id)
    assert stored is not None and stored.creator_id == world.services.keys.verify(first.access_token.value)["sub"]
    assert auth.get_tokens().access_token.value != first.access_token.value


async def test_the_oauth_flow_methods(world: World) -> None:
    member = world.services.members.create(world.tenant.site_id, EMAIL, PASSWORD)
    auth = OAuthStrategy(client_id=world.tenant.client_id)
    async with _async_client(world, auth) as client:
        data = client.auth.generate_oauth_data("https://shop.example.com/callback", "https://shop.example.com/")
        result = await client.auth.get_auth_url(data, response_mode="query")
        assert result["auth_url"].startswith(f"{PUBLIC_URL}/_api/oauth2/authorize?")
        assert f"code_challenge={data.code_challenge}" in result["auth_url"]
        code, row = new_code_row(site_id=world.tenant.site_id, client_id=world.tenant.client_id, member_id=member.id,
                                 params={"redirectUri": data.redirect_uri, "scope": "offline_access",
                                         "codeChallenge": data.code_challenge, "codeChallengeMethod": "S256"}, ttl=60)
        world.services.identity.insert_code(row)
        parsed = client.auth.parse_from_url(f"https://shop.example.com/callback?code={code}&state={data.state}", "query")
        with pytest.raises(ValueError, match="invalid state"):
            await client.auth.get_member_tokens(parsed["code"], "other", data)
        tokens = await client.auth.get_member_tokens(parsed["code"], parsed["state"], data)
        client.auth.set_tokens(tokens)
        assert client.auth.logged_in()
        logout = await client.auth.logout("https://shop.example.com/bye")
        assert logout["logout_url"].startswith(f"{PUBLIC_URL}/flow/logout?")
        assert not client.auth.logged_in() and client.auth.get_tokens() == Tokens.empty()
    assert OAuthStrategy.parse_from_url("https://a/cb#error=access_denied&state=s") == {
        "code": None, "state": "s", "error": "access_denied", "error_description": None}


async def test_api_key_strategy_and_error_mapping(world: World) -> None:
    async with _async_client(world, ApiKeyStrategy(api_key=world.tenant.api_key, site_id=world.tenant.site_id)) as c:
        assert (await c.redirects.create_redirect_session(login={})).id
        with pytest.raises(ValidationError) as invalid:
            await c.redirects.create_redirect_session(ecom_checkout={})
    err = invalid.value
    assert err.status == 400 and err.request_id
    assert [(v.field, v.violated_rule) for v in err.field_violations] == [("ecomCheckout.checkoutId", "REQUIRED_FIELD")]
    async with _async_client(world, ApiKeyStrategy(api_key="hrk_wrong", site_id=world.tenant.site_id)) as c:
        with pytest.raises(AuthenticationError) as unauthenticated:
            await c.redirects.create_redirect_session(login={})
    assert unauthenticated.value.code == "UNAUTHENTICATED"
    async with _async_client(world, ApiKeyStrategy(api_key=world.tenant.api_key, site_id=GUID)) as c:
        with pytest.raises(PermissionDenied):
            await c.redirects.create_redirect_session(login={})
    async with _async_client(world, OAuthStrategy(client_id=GUID)) as c:
        with pytest.raises(OAuthError) as oauth:
            await c.auth.generate_visitor_tokens()
    assert oauth.value.error == "invalid_client" and oauth.value.status == 401


def _counting(handler):  # type: ignore[no-untyped-def]
    calls = []

    def transport(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)  # type: ignore[no-any-return]

    return calls, httpx.MockTransport(transport)


def test_retries_on_retry_after_stop(world: World) -> None:
    calls, transport = _counting(lambda r: httpx.Response(503, headers={"retry-after": "0"}, json={
        "message": "busy", "details": {"applicationError": {"code": "UNAVAILABLE", "description": "busy", "data": {}}}}))
    client = create_client(auth=ApiKeyStrategy(api_key="k", site_id=GUID), base_url=PUBLIC_URL,
                           retry=RetryPolicy(max_retries=2), http=httpx.Client(transport=transport))
    with pytest.raises(APIError) as err:
        client.redirects.create_redirect_session(login={})
    assert len(calls) == 3 and err.value.status == 503 and err.value.code == "UNAVAILABLE"


def test_no_retry_without_retry_after_or_on_other_errors(world: World) -> None:
    calls, transport = _counting(lambda r: httpx.Response(503))
    client = create_client(auth=ApiKeyStrategy(api_key="k", site_id=GUID), base_url=PUBLIC_URL,
                           http=httpx.Client(transport=transport))
    with pytest.raises(APIError) as err:
        client.redirects.create_redirect_session(login={})
    assert len(calls) == 1 and err.value.status == 503


def test_connection_refused_is_retried_then_raised() -> None:
    from tests.live import free_port

    client = create_client(auth=ApiKeyStrategy(api_key="k", site_id=GUID), base_url=f"http://127.0.0.1:{free_port()}",
                           retry=RetryPolicy(max_retries=2, base_delay=0.01))
    started = time.monotonic()
    with pytest.raises(ConnectionFailed):
        client.redirects.create_redirect_session(login={})
    assert time.monotonic() - started < 5


@pytest.fixture
def live(tmp_path: object) -> Iterator[Live]:
    with live_server(f"sqlite:///{tmp_path}/sdk.db") as server:
        yield server


def test_sync_client_against_a_live_server(live: Live) -> None:
    with create_client(modules={"redirects": redirects}, auth=OAuthStrategy(client_id=live.tenant.client_id),
                       base_url=live.url) as client:
        session = client.redirects.create_redirect_session(
            paid_plans_checkout={"plan_id": GUID}, callbacks={"plan_list_url": "http://127.0.0.1:3000/plans"})
        assert session.full_url.startswith(f"{live.url}/flow/plans-checkout?")
        with pytest.raises(ValidationError):
            client.redirects.create_redirect_session(login={}, logout={"client_id": GUID})
        assert client.auth.get_tokens().refresh_token.role == TokenRole.VISITOR
