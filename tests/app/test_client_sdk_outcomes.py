"""The SDK's side of "outcomes a client backend can trust" (SPEC §12), in process against the app
(httpx's ASGI transport; Starlette's TestClient for the sync client): get, list (pages followed
lazily), expire, automatic idempotency keys (a create whose answer was lost is retried with its
key and makes one session), the idempotency errors, and ``verify_webhook``."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from headless_redirects.client import (
    ApiKeyStrategy,
    Conflict,
    ConnectionFailed,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotFound,
    OAuthStrategy,
    RedirectSessionInfo,
    RedirectSessionsPage,
    RetryPolicy,
    SessionAlreadyFinished,
    SessionState,
    ValidationError,
    WebhookEvent,
    WebhookVerificationError,
    create_async_client,
    create_client,
    redirects,
    verify_webhook,
)
from tests.conftest import GUID, PUBLIC_URL, SESSION_PATH, World
from tests.flows import submit

pytestmark = pytest.mark.anyio
THANKS, AFTER = "https://shop.example.com/thanks", "https://shop.example.com/after"
CHECKOUT = {"ecom_checkout": {"checkout_id": GUID}, "callbacks": {"thank_you_page_url": THANKS, "post_flow_url": AFTER}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _key(world: World) -> ApiKeyStrategy:
    return ApiKeyStrategy(api_key=world.tenant.api_key, site_id=world.tenant.site_id)


def _async(world: World, auth: Any = None, transport: httpx.AsyncBaseTransport | None = None,
           sent: list[httpx.Request] | None = None, **kwargs: Any) -> Any:
    async def record(request: httpx.Request) -> None:
        if sent is not None:
            sent.append(request)

    http = httpx.AsyncClient(transport=transport or httpx.ASGITransport(app=world.client.app),
                             event_hooks={"request": [record]})
    return create_async_client(modules={"redirects": redirects}, auth=auth or _key(world), base_url=PUBLIC_URL,
                               http=http, **kwargs)


class InProcess(httpx.BaseTransport):
    """A sync httpx transport into the app (httpx has only an async ASGI transport; Starlette's
    TestClient may be built on another httpx, so requests are handed over, not the client)."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, raise_server_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(k, v) for k, v in request.headers.multi_items() if k not in ("host", "content-length")]
        r = self.client.request(request.method, str(request.url), headers=headers, content=request.read(),
                                follow_redirects=False)
        return httpx.Response(r.status_code, headers=list(r.headers.multi_items()), content=r.content,
                              request=request)


def _sync(world: World, auth: Any = None, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> Any:
    http = httpx.Client(transport=transport or InProcess(world.client.app))
    return create_client(auth=auth or _key(world), base_url=PUBLIC_URL, http=http, **kwargs)


def _complete(world: World, full_url: str) -> str:
    """Walk the hosted checkout in a browser-like client; the orderId its thank-you URL carries."""
    browser = TestClient(world.client.app)
    path = full_url.removeprefix(PUBLIC_URL)
    page = browser.get(path)
    done = submit(browser, page.text, urlsplit(path).path)
    assert done.status_code == 303, done.text
    return parse_qs(urlsplit(done.headers["location"]).query)["orderId"][0]


# --- get ----------------------------------------------------------------------------------------


async def test_get_a_completed_session_typed_with_the_outcome_the_service_recorded(world: World) -> None:
    async with _async(world) as client:
        created = await client.redirects.create_redirect_session(**CHECKOUT)
        fresh = await client.redirects.get_redirect_session(created.id)
        order_id = _complete(world, created.full_url)
        done = await client.redirects.get_redirect_session(created.id)
    assert isinstance(fresh, RedirectSessionInfo)
    assert fresh.state == SessionState.CREATED and fresh.outcome.order_id is None
    assert fresh.outcome.wix_member_logged_in is None and fresh.outcome.data == {}
    assert done.id == created.id and done.intent == "ecom_checkout" and done.state == "COMPLETED"
    assert done.outcome.order_id == order_id and done.outcome.wix_member_logged_in is False
    assert done.outcome.data["orderId"] == order_id
    assert done.callbacks == {"thank_you_page_url": THANKS, "post_flow_url": AFTER}
    assert done.full_url == created.full_url and done.short_url == created.short_url
    assert done.created_date.tzinfo is not None and done.created_date.utcoffset() == timedelta(0)
    assert done.created_date <= done.updated_date < done.expires_date
    assert abs(datetime.now(UTC) - done.created_date) < timedelta(minutes=5)


async def test_a_token_sees_only_the_sessions_it_created(world: World) -> None:
    async with _async(world, OAuthStrategy(client_id=world.tenant.client_id)) as mine, \
            _async(world, OAuthStrategy(client_id=world.tenant.client_id)) as other, _async(world) as site:
        created = await mine.redirects.create_redirect_session(login={})
        assert (await mine.redirects.get_redirect_session(created.id)).intent == "login"
        with pytest.raises(NotFound) as missing:
            await other.redirects.get_redirect_session(created.id)
        assert [p async for p in other.redirects.list_redirect_sessions()][0].sessions == []
        # the site's API key sees every session of the site
        assert (await site.redirects.get_redirect_session(created.id)).id == created.id
        with pytest.raises(NotFound):
            await site.redirects.get_redirect_session(str(uuid.uuid4()))
    assert missing.value.status == 404 and missing.value.request_id and missing.value.code


# --- list ---------------------------------------------------------------------------------------


async def test_list_follows_the_cursors_lazily_across_pages(world: World) -> None:
    sent: list[httpx.Request] = []
    async with _async(world, sent=sent) as client:
        ids = {(await client.redirects.create_redirect_session(login={})).id for _ in range(7)}
        sent.clear()
        pages_iter = client.redirects.list_redirect_sessions(limit=3)
        assert sent == []  # nothing is fetched before the iteration asks
        first = await pages_iter.__anext__()
        assert len(sent) == 1 and isinstance(first, RedirectSessionsPage)
        pages = [first] + [page async for page in pages_iter]
    assert [p.count for p in pages] == [3, 3, 1] == [len(p) for p in pages]
    assert [p.next_cursor is None for p in pages] == [False, False, True]
    listed = [s for page in pages for s in page]
    assert len(listed) == 7 and {s.id for s in listed} == ids
    assert all(a.created_date >= b.created_date for a, b in zip(listed, listed[1:], strict=False))  # newest first
    assert [r.url.params.get("cursor") for r in sent] == [None, pages[0].next_cursor, pages[1].next_cursor]
    assert all(r.url.params["limit"] == "3" and r.method == "GET" for r in sent)


async def test_list_filters(world: World) -> None:
    async with _async(world) as client:
        login = await client.redirects.create_redirect_session(login={})
        checkout = await client.redirects.create_redirect_session(**CHECKOUT)
        expired = await client.redirects.create_redirect_session(**CHECKOUT)
        await client.redirects.expire_redirect_session(expired.id)

        async def ids(**filters: Any) -> list[str]:
            return [s.id async for page in client.redirects.list_redirect_sessions(**filters) for s in page]

        assert set(await ids(intent="ecom_checkout")) == {expired.id, checkout.id}
        assert set(await ids(intent="ecomCheckout")) == {expired.id, checkout.id}  # the wire name works too
        assert await ids(state=SessionState.EXPIRED) == [expired.id]
        assert set(await ids(state="CREATED")) == {login.id, checkout.id}
        assert await ids(intent="login", state="CREATED") == [login.id]
        hour = timedelta(hours=1)
        assert len(await ids(created_from=datetime.now(UTC) - hour, created_to=datetime.now(UTC) + hour)) == 3
        future = [p async for p in client.redirects.list_redirect_sessions(created_from=datetime.now(UTC) + hour)]
        assert len(future) == 1 and future[0].sessions == [] and future[0].next_cursor is None
        assert len(await ids(created_to="2000-01-01T00:00:00Z")) == 0
        with pytest.raises(ValueError, match="aware datetime"):
            client.redirects.list_redirect_sessions(created_from=datetime(2026, 1, 1))
        with pytest.raises(ValidationError) as invalid:
            await ids(limit=500, state="DONE")
    assert sorted(v.field for v in invalid.value.field_violations) == ["limit", "state"]


# --- expire -------------------------------------------------------------------------------------


async def test_expire(world: World) -> None:
    async with _async(world) as client:
        created = await client.redirects.create_redirect_session(**CHECKOUT)
        expired = await client.redirects.expire_redirect_session(created.id)
        assert expired.id == created.id and expired.state == SessionState.EXPIRED
        assert (await client.redirects.expire_redirect_session(created.id)).state == "EXPIRED"  # again: the same
        assert (await client.redirects.get_redirect_session(created.id)).state == "EXPIRED"
        page = TestClient(world.client.app).get(created.full_url.removeprefix(PUBLIC_URL))
        assert page.status_code == 410  # the URL now shows the expired page

        finished = await client.redirects.create_redirect_session(**CHECKOUT)
        _complete(world, finished.full_url)
        with pytest.raises(SessionAlreadyFinished) as refused:
            await client.redirects.expire_redirect_session(finished.id)
        with pytest.raises(NotFound):
            await client.redirects.expire_redirect_session(str(uuid.uuid4()))
        with pytest.raises(ValueError, match="not a redirect session id"):
            await client.redirects.expire_redirect_session("../redirect-sessions")
    err = refused.value
    assert isinstance(err, Conflict) and err.status == 409 and err.code == "SESSION_ALREADY_FINISHED"
    assert err.request_id and "COMPLETED" in err.message


def test_sync_get_list_expire(world: World) -> None:
    with _sync(world) as client:
        created = [client.redirects.create_redirect_session(login={}) for _ in range(3)]
        assert client.redirects.get_redirect_session(created[0].id).state == SessionState.CREATED
        pages = client.redirects.list_redirect_sessions(limit=2)
        assert isinstance(pages, Iterator)
        assert [len(p) for p in pages] == [2, 1]
        assert client.redirects.expire_redirect_session(created[1].id).state == SessionState.EXPIRED
        (page,) = client.redirects.list_redirect_sessions(state="EXPIRED")
        assert [s.id for s in page] == [created[1].id]
        with pytest.raises(NotFound):
            client.redirects.get_redirect_session(str(uuid.uuid4()))


# --- idempotency --------------------------------------------------------------------------------


async def test_every_create_sends_a_fresh_idempotency_key(world: World) -> None:
    sent: list[httpx.Request] = []
    async with _async(world, OAuthStrategy(client_id=world.tenant.client_id), sent=sent) as client:
        first = await client.redirects.create_redirect_session(login={})
        second = await client.redirects.create_redirect_session(login={})
        data = client.auth.generate_oauth_data("https://shop.example.com/callback")
        await client.auth.get_auth_url(data)
        await client.auth.logout(AFTER)
    keys = [r.headers.get("idempotency-key") for r in sent if r.url.path == SESSION_PATH]
    assert len(keys) == 4 and len(set(keys)) == 4 and all(k and uuid.UUID(k) for k in keys)
    assert all("idempotency-key" not in r.headers for r in sent if r.url.path != SESSION_PATH)
    assert first.id != second.id and not first.idempotent_replayed and not second.idempotent_replayed


class LosesTheFirstAnswer(httpx.AsyncBaseTransport):
    """The server handles the request, then the connection drops before its answer arrives."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.creates: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == SESSION_PATH:
            self.creates.append(request)
            if len(self.creates) == 1:
                await response.aread()
                raise httpx.ReadError("connection reset by peer", request=request)
        return response


async def _count(world: World) -> int:
    async with _async(world) as client:
        return sum([len(page) async for page in client.redirects.list_redirect_sessions()])


async def test_a_create_whose_answer_was_lost_is_retried_with_its_key_and_makes_one_session(world: World) -> None:
    flaky = LosesTheFirstAnswer(httpx.ASGITransport(app=world.client.app))
    async with _async(world, OAuthStrategy(client_id=world.tenant.client_id), transport=flaky,
                      retry=RetryPolicy(base_delay=0.01)) as client:
        session = await client.redirects.create_redirect_session(**CHECKOUT)
    first, retry = flaky.creates
    assert first is retry  # the very same request: same body, same Idempotency-Key
    assert first.headers["idempotency-key"]
    assert session.idempotent_replayed
    assert await _count(world) == 1
    assert world.services.store.sessions.get(session.id) is not None


def test_sync_a_create_whose_answer_was_lost_is_retried_and_makes_one_session(world: World) -> None:
    creates: list[httpx.Request] = []

    class LosesTheFirstAnswerSync(InProcess):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if request.url.path == SESSION_PATH:
                creates.append(request)
                if len(creates) == 1:
                    raise httpx.ReadError("connection reset by peer", request=request)
            return response

    with _sync(world, transport=LosesTheFirstAnswerSync(world.client.app), retry=RetryPolicy(base_delay=0.01)) as client:
        session = client.redirects.create_redirect_session(**CHECKOUT)
        (page,) = client.redirects.list_redirect_sessions()
    assert len(creates) == 2 and creates[0].headers["idempotency-key"] == creates[1].headers["idempotency-key"]
    assert session.idempotent_replayed and [s.id for s in page] == [session.id]


async def test_without_retries_the_lost_answer_is_connection_failed(world: World) -> None:
    flaky = LosesTheFirstAnswer(httpx.ASGITransport(app=world.client.app))
    async with _async(world, transport=flaky, retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(ConnectionFailed, match="ReadError"):
            await client.redirects.create_redirect_session(**CHECKOUT)
    assert len(flaky.creates) == 1 and await _count(world) == 1  # it was made; the caller may retry with the key


async def test_an_explicit_key_replays_and_another_body_under_it_is_refused(world: World) -> None:
    key = f"order-{uuid.uuid4()}"
    async with _async(world) as client:
        first = await client.redirects.create_redirect_session(**CHECKOUT, idempotency_key=key)
        again = await client.redirects.create_redirect_session(**CHECKOUT, idempotency_key=key)
        with pytest.raises(IdempotencyKeyReused) as reused:
            await client.redirects.create_redirect_session(login={}, idempotency_key=key)
        other = await client.redirects.create_redirect_session(**CHECKOUT)
    assert not first.idempotent_replayed and again.idempotent_replayed
    assert again.id == first.id and again.full_url == first.full_url and other.id != first.id
    err = reused.value
    assert err.status == 422 and err.code == "IDEMPOTENCY_KEY_REUSED" and err.request_id
    assert await _count(world) == 2


def test_sync_explicit_key(world: World) -> None:
    with _sync(world) as client:
        first = client.redirects.create_redirect_session(login={}, idempotency_key="same-key")
        assert client.redirects.create_redirect_session(login={}, idempotency_key="same-key").id == first.id
        with pytest.raises(IdempotencyKeyReused):
            client.redirects.create_redirect_session(login={}, origin="x", idempotency_key="same-key")
        with pytest.raises(ValidationError) as invalid:
            client.redirects.create_redirect_session(login={}, idempotency_key="has a space")
    assert invalid.value.field_violations[0].field == "Idempotency-Key"


IN_USE = {"message": "in flight", "details": {"applicationError": {"code": "IDEMPOTENCY_KEY_IN_USE",
                                                                     "description": "in flight", "data": {}}}}


def test_key_in_use_is_waited_for_then_the_first_answer_is_returned() -> None:
    calls: list[httpx.Request] = []
    created = {"redirectSession": {"id": GUID, "fullUrl": "http://x/flow?a=1",
                                   "urlDetails": {"endpoint": "http://x/flow", "searchParams": {"a": "1"}}}}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(409, json=IN_USE, headers={"x-wix-request-id": "r1"})
        return httpx.Response(200, json=created, headers={"idempotent-replayed": "true"})

    client = create_client(auth=ApiKeyStrategy(api_key="k", site_id=GUID), base_url=PUBLIC_URL,
                           retry=RetryPolicy(base_delay=0.01), http=httpx.Client(transport=httpx.MockTransport(handler)))
    session = client.redirects.create_redirect_session(login={})
    assert session.id == GUID and session.idempotent_replayed and len(calls) == 2


def test_key_in_use_after_the_retries_is_raised() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(409, json=IN_USE, headers={"x-wix-request-id": "r1"})

    client = create_client(auth=ApiKeyStrategy(api_key="k", site_id=GUID), base_url=PUBLIC_URL,
                           retry=RetryPolicy(max_retries=2, base_delay=0.01),
                           http=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(IdempotencyKeyInUse) as err:
        client.redirects.create_redirect_session(login={})
    assert len(calls) == 3 and len({c.headers["idempotency-key"] for c in calls}) == 1
    assert isinstance(err.value, Conflict) and err.value.status == 409 and err.value.request_id == "r1"


def test_a_request_that_may_not_be_repeated_is_not_retried_after_it_was_sent() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadError("reset", request=request)

    client = create_client(auth=OAuthStrategy(client_id=GUID), base_url=PUBLIC_URL,
                           retry=RetryPolicy(base_delay=0.01), http=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(ConnectionFailed, match="no answer from"):
        client.auth.generate_visitor_tokens()  # a token grant carries no key: it could make two visitors
    assert len(calls) == 1


def test_reads_and_expire_are_retried_after_a_reset() -> None:
    calls: list[str] = []
    session = {"id": GUID, "intent": "login", "state": "EXPIRED", "fullUrl": "http://x/f", "shortUrl": "http://x/r/a",
               "callbacks": {}, "createdDate": "2026-01-01T00:00:00Z", "updatedDate": "2026-01-01T00:00:01Z",
               "expiresDate": "2026-01-01T00:10:00Z", "outcome": {}}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) % 2:
            raise httpx.ReadTimeout("slow", request=request)
        if request.url.path.endswith("redirect-sessions"):
            return httpx.Response(200, json={"redirectSessions": [session],
                                             "pagingMetadata": {"count": 1, "cursors": {"next": None}}})
        return httpx.Response(200, json={"redirectSession": session})

    client = create_client(auth=ApiKeyStrategy(api_key="k", site_id=GUID), base_url=PUBLIC_URL,
                           retry=RetryPolicy(base_delay=0.01), http=httpx.Client(transport=httpx.MockTransport(handler)))
    assert client.redirects.get_redirect_session(GUID).updated_date == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert client.redirects.expire_redirect_session(GUID).state == SessionState.EXPIRED
    assert [len(p) for p in client.redirects.list_redirect_sessions()] == [1]
    assert calls == ["GET", "GET", "POST", "POST", "GET", "GET"]


# --- webhooks -----------------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
SESSION_WIRE = {"id": GUID, "intent": "ecomCheckout", "state": "COMPLETED", "fullUrl": "http://x/flow?s=1",
                "shortUrl": "http://x/r/abc", "callbacks": {"thankYouPageUrl": THANKS},
                "createdDate": "2026-01-31T12:00:00Z", "updatedDate": "2026-01-31T12:01:00Z",
                "expiresDate": "2026-01-31T12:30:00Z",
                "outcome": {"orderId": "d9d5e0c0-0a5e-4d4b-9b8e-3a2d9f0c1a11", "wixMemberLoggedIn": True,
                            "memberId": GUID}}


def _delivery(secret: str = SECRET, at: datetime | None = None, event_id: str = "msg_1",
              body: dict[str, Any] | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body or {"type": "redirect_session.completed", "timestamp": "2026-01-31T12:01:00.250Z",
                              "data": {"redirectSession": SESSION_WIRE}}, separators=(",", ":"))
    moment = at or datetime.now(UTC)
    return raw.encode(), {"Webhook-Id": event_id, "Webhook-Timestamp": str(int(moment.timestamp())),
                          "Webhook-Signature": Webhook(secret).sign(event_id, moment, raw),
                          "Content-Type": "application/json"}


def test_verify_webhook_returns_the_typed_event() -> None:
    body, headers = _delivery()
    event = verify_webhook(body, headers, SECRET)
    assert isinstance(event, WebhookEvent)
    assert event.id == "msg_1" and event.type == "redirect_session.completed"
    assert event.timestamp == datetime(2026, 1, 31, 12, 1, 0, 250000, tzinfo=UTC)
    assert event.data == {"redirectSession": SESSION_WIRE}
    session = event.redirect_session
    assert session is not None and session.state == SessionState.COMPLETED and session.intent == "ecom_checkout"
    assert session.outcome.order_id == SESSION_WIRE["outcome"]["orderId"]  # type: ignore[index]
    assert session.outcome.member_id == GUID and session.outcome.wix_member_logged_in is True
    # the body as text and headers as any mapping (here httpx's, as a receiver gets them) work too
    assert verify_webhook(body.decode(), httpx.Headers(headers), SECRET.removeprefix("whsec_")) == event


def test_verify_webhook_reads_what_the_service_signs() -> None:
    from headless_redirects.service.webhooks import EventWriter, sign_headers

    row = EventWriter.build(GUID, "member.created", {"member": {"id": GUID}})
    event = verify_webhook(row["body"].encode(), sign_headers(SECRET, row["id"], row["body"]), SECRET)
    assert event.id == row["id"] and event.type == "member.created" and event.redirect_session is None
    assert event.data == {"member": {"id": GUID}} and event.timestamp.tzinfo is not None


@pytest.mark.parametrize("case", ["tampered body", "wrong secret", "old timestamp", "future timestamp",
                                  "missing signature", "malformed signature", "other event id", "not an event"])
def test_verify_webhook_refuses(case: str) -> None:
    body, headers = _delivery()
    other_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    if case == "tampered body":
        body = body.replace(b'"state":"COMPLETED"', b'"state":"COMPLETED","x":1')
    elif case == "wrong secret":
        body, headers = _delivery(secret=other_secret)
    elif case == "old timestamp":
        body, headers = _delivery(at=datetime.now(UTC) - timedelta(minutes=10))
    elif case == "future timestamp":
        body, headers = _delivery(at=datetime.now(UTC) + timedelta(minutes=10))
    elif case == "missing signature":
        del headers["Webhook-Signature"]
    elif case == "malformed signature":
        headers["Webhook-Signature"] = "garbage"
    elif case == "other event id":
        headers["Webhook-Id"] = "msg_2"
    else:
        body, headers = _delivery(body={"hello": "world"})
    with pytest.raises(WebhookVerificationError) as err:
        verify_webhook(body, headers, SECRET)
    assert err.value.status is None and err.value.message
    if case == "old timestamp":
        assert "too old" in err.value.message


def test_verify_webhook_with_a_secret_that_is_not_one_is_a_configuration_error() -> None:
    body, headers = _delivery()
    for secret in ("", "whsec_", "whsec_not base64!"):
        with pytest.raises(ValueError, match="whsec_"):
            verify_webhook(body, headers, secret)


def test_the_new_calls_are_documented_with_examples() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "sdk.md").read_text()
    for call in ("get_redirect_session(", "list_redirect_sessions(", "expire_redirect_session(", "verify_webhook(",
                 "idempotency_key="):
        assert doc.count(call) >= 2, call  # its heading and at least one example
