"""Rate limits (SPEC §13): API requests per API key and per site, 429 RESOURCE_EXHAUSTED with
Retry-After; failed-login counters in Redis shared by every instance. Redis tests need
HEADLESS_REDIRECTS_TEST_REDIS_URL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from headless_redirects.service.members import Limits, LoginFailed, MemberService, TooManyAttempts
from headless_redirects.storage.database import Database
from headless_redirects.storage.identity import IdentityStore
from headless_redirects.storage.redis_failures import RedisFailures
from tests.conftest import make_world

REDIS_ENV = "HEADLESS_REDIRECTS_TEST_REDIS_URL"
LOGIN = {"login": {}, "callbacks": {"postFlowUrl": "http://localhost:3000/"}}
PATH = "/_api/redirects-api/v1/redirect-session"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set: no Redis server to test against")
    return url


@pytest.fixture(params=["memory", "redis"])
def limit_store(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "memory" else str(request.getfixturevalue("redis_url"))


def test_the_api_key_limit_answers_429_with_retry_after(sqlite_url: str, limit_store: str | None) -> None:
    w = make_world(sqlite_url, redis_url=limit_store, api_rate_limit_per_key="3/minute")
    try:
        headers = {"Authorization": w.tenant.api_key, "wix-site-id": w.tenant.site_id}
        assert [w.client.post(PATH, json=LOGIN, headers=headers).status_code for _ in range(3)] == [200] * 3
        r = w.client.post(PATH, json=LOGIN, headers=headers)
        assert r.status_code == 429
        assert r.json()["details"]["applicationError"]["code"] == "RESOURCE_EXHAUSTED"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # a visitor of the same site is another caller: the per-key limit is not theirs
        assert w.create(LOGIN).status_code == 200
    finally:
        w.services.db.dispose()


def test_the_site_limit_is_shared_by_two_instances_through_redis(tmp_path: object, redis_url: str) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    a = make_world(url, redis_url=redis_url, api_rate_limit_per_site="4/minute")
    b_app_world = None
    try:
        # a second app (instance) on the same database and Redis
        from starlette.testclient import TestClient

        from headless_redirects.settings import Settings
        from headless_redirects.web.app import create_app

        b = create_app(Settings(database_url=url, redis_url=redis_url, api_rate_limit_per_site="4/minute"))
        b_app_world = b
        client_b = TestClient(b)
        headers = {"Authorization": a.tenant.api_key, "wix-site-id": a.tenant.site_id}
        codes = []
        for i in range(4):
            client = a.client if i % 2 == 0 else client_b
            codes.append(client.post(PATH, json=LOGIN, headers=headers).status_code)
        assert codes == [200] * 4
        assert client_b.post(PATH, json=LOGIN, headers=headers).status_code == 429
        assert a.client.post(PATH, json=LOGIN, headers=headers).status_code == 429
    finally:
        a.services.db.dispose()
        if b_app_world is not None:
            b_app_world.services.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def members_on_two_instances(sqlite_url: str, redis_url: str) -> Iterator[tuple[MemberService, MemberService, str]]:
    db = Database(sqlite_url)
    from headless_redirects.storage.migrate import upgrade

    upgrade(db.engine)
    limits = Limits(per_account=3, per_ip=100, window=60)
    one, two = MemberService(IdentityStore(db), limits), MemberService(IdentityStore(db), limits)
    failures = [RedisFailures(redis_url), RedisFailures(redis_url)]
    one.failure_store, two.failure_store = failures
    try:
        yield one, two, f"{uuid.uuid4().hex}@example.com"
    finally:
        for f in failures:
            f.close()
        db.dispose()


def test_failed_logins_counted_in_redis_are_shared(members_on_two_instances: tuple[MemberService, MemberService, str]
                                                   ) -> None:
    one, two, email = members_on_two_instances
    one.create("site", email, "the right password")

    async def attempts() -> None:
        for service in (one, two, one):
            with pytest.raises(LoginFailed):
                await service.login("site", email, "wrong password", "10.0.0.1")
        with pytest.raises(TooManyAttempts):  # on the other instance, even with the right one
            await two.login("site", email, "the right password", "10.0.0.2")

    asyncio.run(attempts())
