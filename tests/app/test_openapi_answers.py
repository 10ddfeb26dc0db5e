"""What the OpenAPI document says each route answers is what the app sends (issue 9 item 5).

Real responses of the app are validated against the schema the document declares for their route,
method and status (JSON Schema 2020-12 with ``jsonschema``, formats checked), with every object
that names its members closed (``additionalProperties: false``), so a member the app sends and the
schema does not name fails as much as a missing required one. Every JSON success answer the document
declares is sampled at least once, so a new route needs its sample here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

from headless_redirects.web.hotpath import SESSION_ROUTES
from headless_redirects.web.openapi import document
from tests.conftest import GUID, World
from tests.idapi import AUTHN, backend_key, code_from, link_from, outbox, register
from tests.identity import EMAIL, PASSWORD, auth_body, exchange, login_for_code, query_of, session_url, submit_login

API = "/_api/redirects-api/v1"


def _closed(node: Any) -> Any:
    """``node`` with each object schema that lists its properties closed to any others."""
    if isinstance(node, list):
        return [_closed(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


class Answers:
    """Validates responses against the document and remembers which answers were seen."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.doc = document()
        self.components = _closed(self.doc["components"])
        self.seen: set[tuple[str, str, str]] = set()

    def schema_of(self, path: str, method: str, status: str) -> dict[str, Any]:
        responses = self.doc["paths"][path][method]["responses"]
        declared = responses.get(status) or responses.get(f"{status[0]}XX")
        assert declared is not None, f"{method.upper()} {path} answers {status}, which the document does not declare"
        return dict(declared["content"]["application/json"]["schema"])

    def validate(self, response: Any, path: str, method: str) -> None:
        status = str(response.status_code)
        schema = {**_closed(self.schema_of(path, method, status)), "components": self.components}
        Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(response.json())
        self.seen.add((path, method, status))

    def call(self, method: str, path: str, url: str | None = None, **kwargs: Any) -> Any:
        """``method`` on ``url`` (the documented ``path`` itself when it has no parameters)."""
        response = self.world.client.request(method.upper(), url or path, **kwargs)
        self.validate(response, path, method)
        return response.json()

    def declared(self) -> set[tuple[str, str, str]]:
        return {(path, method, status) for path, item in self.doc["paths"].items() for method, op in item.items()
                for status, answer in op["responses"].items()
                if status.startswith("2") and "application/json" in answer.get("content", {})}


def _oauth(a: Answers) -> None:
    w = a.world
    visitor = a.call("post", "/oauth2/token", json={"clientId": w.tenant.client_id, "grantType": "anonymous"})
    a.call("post", "/oauth2/token", data={"client_id": w.tenant.client_id, "grant_type": "nonsense"})
    member_id = register(w).json()["identity"]["id"]
    member = a.call("post", "/oauth2/token", json={"grant_type": "authorized_client", "scope": "offline_access",
                                                   "member_id": member_id},
                    headers={"Authorization": f",{backend_key(w)}"})
    a.call("post", "/oauth2/token", json={"grantType": "refresh_token", "refreshToken": member["refresh_token"]})
    assert a.call("post", "/oauth2/token-info", json={"token": member["access_token"]})["active"]
    assert a.call("post", "/oauth2/token-info", json={"token": "dead"}) == {"active": False}
    a.call("post", "/oauth2/token-info", json={})
    a.call("post", "/oauth2/revoke", json={"token": visitor["access_token"]})
    for path in ("/.well-known/oauth-authorization-server", "/oauth2/jwks", "/.well-known/jwks.json",
                 "/healthz", "/readyz", "/openapi.json"):
        a.call("get", path)
    a.call("get", "/members/v1/members/my", headers={"Authorization": member["access_token"]})
    a.call("get", "/members/v1/members/my", headers={"Authorization": visitor["access_token"]})


def _sessions(a: Answers) -> None:
    w = a.world
    token = w.visitor()["access_token"]
    body = {"login": {}, "callbacks": {"postFlowUrl": "https://shop.example.com/"}}
    for path in SESSION_ROUTES:
        created = a.call("post", path, json=body, headers={"Authorization": token})
    a.call("post", SESSION_ROUTES[0], json={"ecomCheckout": {"checkoutId": "x"}}, headers={"Authorization": token})
    a.call("post", SESSION_ROUTES[0], json=body)
    session_id = created["redirectSession"]["id"]
    one, auth = f"{API}/redirect-session/{{session_id}}", {"Authorization": token}
    a.call("get", one, f"{API}/redirect-session/{session_id}", headers=auth)
    a.call("get", one, f"{API}/redirect-session/{GUID}", headers=auth)
    a.call("get", f"{API}/redirect-sessions", headers=auth)
    a.call("get", f"{API}/redirect-sessions", f"{API}/redirect-sessions?state=NOPE", headers=auth)
    a.call("post", f"{one}/expire", f"{API}/redirect-session/{session_id}/expire", headers=auth)
    # a session with an outcome: an auth flow that ended with a code
    w.services.members.create(w.tenant.site_id, EMAIL, PASSWORD)
    login_for_code(w)
    site_key = {"Authorization": w.tenant.api_key, "wix-site-id": w.tenant.site_id}
    page = w.client.get(f"{API}/redirect-sessions", headers=site_key)
    assert any(s["outcome"] for s in page.json()["redirectSessions"])
    a.validate(page, f"{API}/redirect-sessions", "get")


def _identity(a: Answers) -> None:
    w = a.world
    visitor = {"Authorization": w.visitor()["access_token"]}
    credentials = {"loginId": {"email": "ann@example.com"}, "password": "correct horse battery"}
    a.call("post", f"{AUTHN}/register", json=credentials, headers=visitor)
    a.call("post", f"{AUTHN}/register", json=credentials, headers=visitor)
    a.call("post", f"{AUTHN}/login", json=credentials, headers=visitor)
    a.call("post", f"{AUTHN}/login", json={**credentials, "password": "wrong password"}, headers=visitor)
    a.call("post", f"{AUTHN}/sign-on", json={"loginId": {"email": "bo@example.com"}},
           headers={"Authorization": f",{backend_key(w)}"})
    assert w.services.store.tenancy.update_site(w.tenant.site_id, registration_policy="verify-email")
    pending = a.call("post", f"{AUTHN}/register", json={**credentials, "loginId": {"email": "cy@example.com"}},
                     headers=visitor)
    code = code_from(outbox(w, "cy@example.com")[0].body)
    a.call("post", "/_api/iam/verification/v1/auth/verify", json={"code": code, "stateToken": pending["stateToken"]})
    a.call("post", "/_api/iam/recovery/v1/send-email", json={"email": "ann@example.com"}, headers=visitor)
    link = link_from(outbox(w, "ann@example.com")[-1].body)
    token = link.split("token=")[1]
    recover = {"recoveryToken": token, "password": "another good password"}
    a.call("post", "/_api/iam/recovery/v1/recover", json=recover)
    a.call("post", "/_api/iam/recovery/v1/recover", json=recover)


def test_every_answer_is_what_the_document_declares(world: World) -> None:
    answers = Answers(world)
    _oauth(answers)
    _sessions(answers)
    _identity(answers)
    assert answers.declared() - answers.seen == set(), "documented answers that no response here samples"


def test_the_authorization_response_is_the_documented_one(world: World) -> None:
    """The authorize page answers through the redirect URI: its parameters are the members of the
    ``AuthorizationResponse`` schema, the code's and the refusal's alike."""
    a = Answers(world)
    item = a.doc["paths"]["/_api/oauth2/authorize"]
    schema = {**_closed(item["post"]["responses"]["303"]["x-authorization-response"]), "components": a.components}
    validator = Draft202012Validator(schema)
    page = world.client.get(session_url(world, auth_body(world)))
    world.services.members.create(world.tenant.site_id, EMAIL, PASSWORD)
    granted = submit_login(world.client, page.text)
    validator.validate(query_of(granted.headers["location"]))
    page = world.client.get(session_url(world, auth_body(world)))
    refused = submit_login(world.client, page.text, button="cancel")
    assert urlsplit(refused.headers["location"]).query
    validator.validate(query_of(refused.headers["location"]))
    assert exchange(world, query_of(granted.headers["location"])["code"]).status_code == 200
