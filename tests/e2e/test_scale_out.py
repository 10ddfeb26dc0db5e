"""Scale-out (SPEC §13), with real processes: two `serve` instances behind HAProxy
(deploy/haproxy.cfg, health-checking /readyz) on one PostgreSQL database of the test's own.

- under load from a bounded client, one instance is killed with SIGKILL: every acknowledged
  session is readable afterwards, and the client, retrying through the balancer (with the same
  Idempotency-Key, so that a retry never creates a second session), ends with no failure;
- a code redeemed on both instances at once yields one token;
- a revocation made on one instance is refused on the other within a second; an app changed
  elsewhere (the CLI, another instance) is honoured by both within a second;
- the second instance runs two workers, and its /metrics adds them up;
- with Redis, an API key's rate limit is one budget for both instances.

Every process is started on free loopback ports and stopped by the test; the load lasts a few
seconds. Needs HEADLESS_REDIRECTS_TEST_DATABASE_URL and HAProxy (scripts/test installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.live import free_port

CLI = [sys.executable, "-m", "headless_redirects.cli"]
ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
PG_ENV = "HEADLESS_REDIRECTS_TEST_DATABASE_URL"
SESSION_PATH = "/_api/redirects-api/v1/redirect-session"
LOGIN = {"login": {}, "callbacks": {"postFlowUrl": "http://localhost:3000/"}}
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
REDIRECT_URI = "http://localhost:3000/callback"


def _haproxy() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if found is None:
        pytest.skip("haproxy is not installed (scripts/test installs Debian's package)")
    return found


@dataclass
class Instance:
    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    database_url: str
    env: dict[str, str]
    tenant: dict[str, str]
    balancer: str
    instances: list[Instance] = field(default_factory=list)
    haproxy: subprocess.Popen[bytes] | None = None

    def start(self, instance: Instance, workers: int = 1) -> None:
        # A session of its own: the instance's workers are killed with it, by its group id.
        instance.proc = subprocess.Popen([*CLI, "serve", "--port", str(instance.port), "--workers", str(workers)],
                                         env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        _wait(lambda: _ok(instance.url + "/readyz"), 30, f"{instance.name} did not come up")

    def kill(self, instance: Instance) -> None:
        if instance.proc is not None and instance.proc.poll() is None:
            os.killpg(instance.proc.pid, signal.SIGKILL)
            instance.proc.wait(10)

    def stop(self, instance: Instance) -> None:
        proc = instance.proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _wait(check: object, seconds: float, message: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(message)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server to test against")
    from headless_redirects.storage.database import normalize_url

    name = f"hr_scale_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(sa.make_url(base).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _cluster(database_url: str, workers: tuple[int, int] = (1, 2), **settings: str) -> Iterator[Cluster]:
    haproxy = _haproxy()
    listen = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADLESS_REDIRECTS_", "PROMETHEUS_"))}
    env.update({
        "HEADLESS_REDIRECTS_DATABASE_URL": database_url,
        # One public URL for both: it is the issuer of the tokens either instance verifies.
        "HEADLESS_REDIRECTS_PUBLIC_URL": f"http://127.0.0.1:{listen}",
        "HEADLESS_REDIRECTS_TRUSTED_PROXIES": "127.0.0.1",
        # Far longer than a second: what makes a change seen in time is the change feed.
        "HEADLESS_REDIRECTS_TENANT_CACHE_SECONDS": "300",
        "HEADLESS_REDIRECTS_ACCESS_LOG": "false",
        **{f"HEADLESS_REDIRECTS_{k.upper()}": v for k, v in settings.items()},
    })
    tenant = json.loads(subprocess.run(
        [*CLI, "init", "--json", "--allowed-domain", "localhost", "--redirect-uri", REDIRECT_URI],
        env=env, capture_output=True, text=True, check=True).stdout)
    c = Cluster(database_url, env, tenant, f"http://127.0.0.1:{listen}",
                [Instance("hr1", free_port()), Instance("hr2", free_port())])
    try:
        c.start(c.instances[0], workers=workers[0])
        c.start(c.instances[1], workers=workers[1])
        c.haproxy = subprocess.Popen(
            [haproxy, "-f", str(HAPROXY_CFG), "-db"],
            env={**env, "HR_LISTEN": f"127.0.0.1:{listen}", "HR_INSTANCE_1": f"127.0.0.1:{c.instances[0].port}",
                 "HR_INSTANCE_2": f"127.0.0.1:{c.instances[1].port}"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: _ok(c.balancer + "/readyz"), 15, "HAProxy did not come up")
        time.sleep(1.2)  # both servers pass their health checks (rise 2, every 500 ms)
        yield c
    finally:
        if c.haproxy is not None:
            c.haproxy.terminate()
            c.haproxy.wait(10)
        for instance in c.instances:
            c.stop(instance)


@pytest.fixture(scope="module")
def cluster(database_url: str) -> Iterator[Cluster]:
    with _cluster(database_url) as c:
        yield c


def _authorization_codes(cluster: Cluster, count: int) -> list[str]:
    """Codes for a member, stored as the authorize endpoint stores them (PKCE S256)."""
    from headless_redirects.domain.pkce import challenge
    from headless_redirects.service.members import MemberService
    from headless_redirects.service.secrets import digest, new_secret
    from headless_redirects.storage.database import Database
    from headless_redirects.storage.identity import AuthorizationCodeRow, IdentityStore

    db = Database(cluster.database_url)
    try:
        identity = IdentityStore(db)
        member = MemberService(identity).create(cluster.tenant["siteId"], f"{uuid.uuid4().hex}@example.com",
                                                "a long password")
        now = int(time.time())
        codes = []
        for _ in range(count):
            code = new_secret("hrc_")
            identity.insert_code(AuthorizationCodeRow(
                code_hash=digest(code), site_id=cluster.tenant["siteId"], client_id=cluster.tenant["clientId"],
                member_id=member.id, redirect_uri=REDIRECT_URI, scope="offline_access",
                code_challenge=challenge(VERIFIER, "S256"), code_challenge_method="S256", nonce=None,
                created_at=now, expires_at=now + 600))
            codes.append(code)
        return codes
    finally:
        db.dispose()


def test_a_code_redeemed_on_both_instances_at_once_yields_one_token(cluster: Cluster) -> None:
    a, b = cluster.instances
    for code in _authorization_codes(cluster, 5):
        body = {"clientId": cluster.tenant["clientId"], "grantType": "authorization_code", "code": code,
                "codeVerifier": VERIFIER, "redirectUri": REDIRECT_URI}
        start = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def redeem(url: str, body: dict[str, str] = body, start: threading.Barrier = start,
                   answers: list[httpx.Response] = answers) -> None:
            with httpx.Client(timeout=10) as client:
                start.wait()
                answers.append(client.post(url + "/oauth2/token", json=body))

        threads = [threading.Thread(target=redeem, args=(i.url,)) for i in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        assert sorted(r.status_code for r in answers) == [200, 400], [r.text for r in answers]
        refused = next(r for r in answers if r.status_code == 400)
        assert refused.json()["error"] == "invalid_grant"


def test_a_revocation_on_one_instance_is_refused_on_the_other_within_a_second(cluster: Cluster) -> None:
    a, b = cluster.instances
    tokens = httpx.post(a.url + "/oauth2/token", json={"clientId": cluster.tenant["clientId"],
                                                       "grantType": "anonymous"}).json()

    def active_on_b() -> bool:
        r = httpx.post(b.url + "/oauth2/token-info", json={"token": tokens["access_token"]})
        return bool(r.json().get("active"))

    assert active_on_b()  # b knows it (and has cached its signature check)
    assert httpx.post(a.url + "/oauth2/revoke", json={"token": tokens["access_token"]}).status_code == 200
    _wait(lambda: not active_on_b(), 1.0, "the revoked token is still active on the other instance")
    r = httpx.post(b.url + SESSION_PATH, json=LOGIN, headers={"Authorization": tokens["access_token"]})
    assert r.status_code == 401


def test_an_app_changed_elsewhere_is_honoured_by_both_instances_within_a_second(cluster: Cluster) -> None:
    from headless_redirects.storage.database import Database
    from headless_redirects.storage.repository import Store

    late = {"login": {}, "callbacks": {"postFlowUrl": f"https://late-{uuid.uuid4().hex[:6]}.example.com/"}}
    token = httpx.post(cluster.balancer + "/oauth2/token", json={"clientId": cluster.tenant["clientId"],
                                                                 "grantType": "anonymous"}).json()["access_token"]
    headers = {"Authorization": token}
    for instance in cluster.instances:  # both have read the app: its cache is warm, and refuses
        assert httpx.post(instance.url + SESSION_PATH, json=late, headers=headers).status_code == 400
    db = Database(cluster.database_url)
    try:
        store = Store(db)
        app = store.tenancy.get_app(cluster.tenant["clientId"])
        assert app is not None
        host = late["callbacks"]["postFlowUrl"].split("/")[2]  # type: ignore[index]
        store.tenancy.update_app(app.client_id, allowed_domains=[*app.allowed_domains, host])
    finally:
        db.dispose()
    for instance in cluster.instances:
        _wait(lambda url=instance.url: httpx.post(url + SESSION_PATH, json=late, headers=headers).status_code == 200,
              1.0, f"{instance.name} still refuses the new domain")
    # The CLI's own change (browser origins, CORS) likewise.
    origin = f"https://spa-{uuid.uuid4().hex[:6]}.example.com"
    subprocess.run([*CLI, "apps", "update", "--client-id", cluster.tenant["clientId"], "--allowed-origin", origin],
                   env=cluster.env, capture_output=True, check=True)
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    for instance in cluster.instances:
        _wait(lambda url=instance.url: httpx.options(url + "/oauth2/token", headers=preflight).headers.get(
            "access-control-allow-origin") == origin, 1.0, f"{instance.name} does not allow the new origin")


def test_metrics_add_up_across_the_workers_of_an_instance(cluster: Cluster) -> None:
    b = cluster.instances[1]  # two workers

    def healthz_count() -> float:
        text = httpx.get(b.url + "/metrics").text
        found = re.search(r'headless_redirects_requests_total\{method="GET",route="/healthz",status="200"\} '
                          r'([0-9.e+]+)', text)
        return float(found.group(1)) if found else 0.0

    before = healthz_count()
    for _ in range(20):  # a new connection each time: the kernel spreads them over the workers
        assert httpx.get(b.url + "/healthz").status_code == 200
    seen = {healthz_count() for _ in range(6)}
    assert seen == {before + 20}


def test_sigkill_of_one_instance_under_load_loses_nothing_acknowledged(cluster: Cluster) -> None:
    a = cluster.instances[0]
    acknowledged: list[str] = []
    failures: list[str] = []
    retried = [0]
    abandoned = [0]
    stop = threading.Event()
    headers = {"Authorization": cluster.tenant["apiKey"], "wix-site-id": cluster.tenant["siteId"]}

    def client() -> None:
        with httpx.Client(timeout=5) as http:
            for _ in range(3000):  # bounded
                if stop.is_set():
                    return
                key = uuid.uuid4().hex  # a retry repeats the request, never creates a second session
                for attempt in range(50):
                    try:
                        r = http.post(cluster.balancer + SESSION_PATH, json=LOGIN,
                                      headers={**headers, "Idempotency-Key": key})
                        if r.status_code == 200:
                            acknowledged.append(r.json()["redirectSession"]["id"])
                            break
                        if r.status_code == 409 and "IDEMPOTENCY_KEY_IN_USE" in r.text:
                            # The first try died with its instance before it committed (a session
                            # commits with its key's answer), so no session exists for this key,
                            # and the key stays "in use" until it goes stale: a new key is safe.
                            key = uuid.uuid4().hex
                            abandoned[0] += 1
                            continue
                        if r.status_code < 500:
                            failures.append(f"{r.status_code} {r.text[:200]}")
                            break
                    except httpx.TransportError:
                        pass
                    retried[0] += 1
                    time.sleep(0.02 * (attempt + 1))
                else:
                    failures.append("gave up after 50 tries")

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        _wait(lambda: len(acknowledged) >= 100, 20, "no load")
        cluster.kill(a)  # mid-run
        count = len(acknowledged)
        _wait(lambda: len(acknowledged) >= count + 150, 20, "the balancer did not move to the other instance")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert failures == []
    from headless_redirects.storage.database import Database
    from headless_redirects.storage.repository import Store

    db = Database(cluster.database_url)
    try:
        store = Store(db)
        missing = [sid for sid in acknowledged if store.sessions.get(sid) is None]
    finally:
        db.dispose()
    assert missing == []
    assert len(set(acknowledged)) == len(acknowledged)


def test_with_redis_a_rate_limit_is_shared_by_both_instances(database_url: str) -> None:
    redis_url = os.environ.get("HEADLESS_REDIRECTS_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("HEADLESS_REDIRECTS_TEST_REDIS_URL is not set: no Redis server to test against")
    with _cluster(database_url, (1, 1), redis_url=redis_url, api_rate_limit_per_key="6/minute") as c:
        headers = {"Authorization": c.tenant["apiKey"], "wix-site-id": c.tenant["siteId"]}
        a, b = c.instances
        codes = [httpx.post(i.url + SESSION_PATH, json=LOGIN, headers=headers).status_code for i in (a, b) * 3]
        assert codes == [200] * 6
        for instance in (a, b):  # the key's budget is spent on both, whichever spent it
            r = httpx.post(instance.url + SESSION_PATH, json=LOGIN, headers=headers)
            assert r.status_code == 429
            assert r.json()["details"]["applicationError"]["code"] == "RESOURCE_EXHAUSTED"
            assert int(r.headers["retry-after"]) >= 1
        r = httpx.post(c.balancer + SESSION_PATH, json=LOGIN, headers=headers)
        assert r.status_code == 429
