"""Create Redirect Session's writes share a group commit (issue 12, SPEC §7): the requests a loop
turn starts write in that turn and are committed together. Authenticating the caller reads only
committed rows and writes nothing, so it does not wait for the turn's commit of the others'
writes: waiting split each turn's creates into a commit of the first and a commit of the rest,
one loop turn later."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from headless_redirects.service.tenancy import create_tenant
from headless_redirects.settings import Settings
from headless_redirects.web.app import create_app
from headless_redirects.web.hotpath import SESSION_ROUTES
from tests.asgi import asgi_request
from tests.conftest import ALLOWED_DOMAINS, GUID, PUBLIC_URL, REDIRECT_URIS

BODY = json.dumps({"ecomCheckout": {"checkoutId": GUID},
                   "callbacks": {"postFlowUrl": "https://shop.example.com/after"}}).encode()


async def _post(app: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    sent = await asgi_request(app, "POST", path, body, headers)
    return sent[0]["status"], sent[1]["body"]


def test_creates_started_in_one_turn_share_one_commit(tmp_path: Path) -> None:
    app: Any = create_app(Settings(database_url=f"sqlite:///{tmp_path}/grouped.db", public_url=PUBLIC_URL,
                                   webhook_dispatcher=False))
    services = app.services
    group = services.db.group
    assert group is not None  # a server's database: writes are grouped
    tenant = create_tenant(services.store, name="Shop", public_url=None, allowed_domains=ALLOWED_DOMAINS,
                           redirect_uris=REDIRECT_URIS)

    async def main() -> tuple[int, list[tuple[int, bytes]]]:
        status, token = await _post(app, "/oauth2/token", json.dumps(
            {"clientId": tenant.client_id, "grantType": "anonymous"}).encode(), {})
        assert status == 200, token
        access = json.loads(token)["access_token"]
        await asyncio.sleep(0)
        commits = group.commits
        answers = await asyncio.gather(*(_post(app, SESSION_ROUTES[0], BODY, {"authorization": access})
                                         for _ in range(16)))
        return group.commits - commits, answers

    try:
        loop = asyncio.new_event_loop()
        try:
            commits, answers = loop.run_until_complete(main())
        finally:
            loop.close()
        assert [status for status, _ in answers] == [200] * 16, answers[0]
        ids = {json.loads(body)["redirectSession"]["id"] for _, body in answers}
        assert len(ids) == 16
        assert commits == 1  # all sixteen in one commit
        assert all(services.store.sessions.get(i) is not None for i in ids)
    finally:
        services.db.dispose()
