"""Authentication strategies, mirroring the official JS SDK's ``OAuthStrategy`` and
``ApiKeyStrategy``. Network steps are operations (see ``_core``); the client binds them."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ._core import Operation, raise_for_status
from ._models import AccessToken, OAuthData, RedirectSession, RefreshToken, TokenRole, Tokens
from ._sessions import SESSION_PATH, new_idempotency_key

__all__ = ["ApiKeyStrategy", "OAuthStrategy"]

TOKEN_PATH = "/oauth2/token"


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)[:64]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OAuthStrategy:
    """Visitor and member tokens for a client site's OAuth app (no secret: a public client)."""

    def __init__(self, client_id: str, tokens: Tokens | None = None) -> None:
        self.client_id = client_id
        self._tokens = tokens or Tokens.empty()

    # --- local state ---------------------------------------------------------------------------

    def get_tokens(self) -> Tokens:
        return self._tokens

    def set_tokens(self, tokens: Tokens) -> None:
        self._tokens = tokens

    def logged_in(self) -> bool:
        return self._tokens.refresh_token.role == TokenRole.MEMBER

    def generate_oauth_data(self, redirect_uri: str | None = None, original_uri: str | None = None) -> OAuthData:
        verifier, challenge = _pkce_pair()
        return OAuthData(state=secrets.token_urlsafe(32), code_verifier=verifier, code_challenge=challenge,
                         redirect_uri=redirect_uri, original_uri=original_uri or "")

    @staticmethod
    def parse_from_url(url: str, response_mode: str = "fragment") -> dict[str, str | None]:
        parts = urlsplit(url)
        raw = parse_qs(parts.query if response_mode == "query" else parts.fragment)
        values = {k: v[0] for k, v in raw.items()}
        result: dict[str, str | None] = {"code": values.get("code"), "state": values.get("state")}
        if "error" in values:
            result["error"] = values["error"]
            result["error_description"] = values.get("error_description")
        return result

    # --- operations ----------------------------------------------------------------------------

    def _token_request(self, base_url: str, body: dict[str, str]) -> Operation[dict[str, Any]]:
        response = yield httpx.Request("POST", base_url + TOKEN_PATH, json={"clientId": self.client_id, **body})
        return raise_for_status(response)  # type: ignore[no-any-return]

    def _op_generate_visitor_tokens(self, base_url: str, tokens: Tokens | None = None) -> Operation[Tokens]:
        tokens = tokens or self._tokens
        if tokens.access_token.value and tokens.refresh_token.value and not tokens.access_token.expired():
            return tokens
        if tokens.refresh_token.value:
            try:
                return (yield from self._op_renew_token(base_url, tokens.refresh_token))
            except Exception:  # noqa: BLE001 - as the JS SDK: fall back to a new visitor
                pass
        body = yield from self._token_request(base_url, {"grantType": "anonymous"})
        return Tokens(AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"])),
                      RefreshToken(body["refresh_token"], TokenRole.VISITOR))

    def _op_renew_token(self, base_url: str, refresh_token: RefreshToken) -> Operation[Tokens]:
        body = yield from self._token_request(base_url, {"grantType": "refresh_token",
                                                         "refreshToken": refresh_token.value})
        new_refresh = RefreshToken(body["refresh_token"], refresh_token.role) if body.get("refresh_token") \
            else refresh_token
        return Tokens(AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"])), new_refresh)

    def _op_auth_headers(self, base_url: str) -> Operation[dict[str, str]]:
        current = self._tokens
        if not current.access_token.value or current.access_token.expired():
            self._tokens = yield from self._op_generate_visitor_tokens(
                base_url, Tokens(AccessToken("", 0), current.refresh_token))
        return {"Authorization": self._tokens.access_token.value}

    def _op_get_auth_url(self, base_url: str, oauth_data: OAuthData, response_mode: str, prompt: str,
                         session_token: str | None) -> Operation[dict[str, str | None]]:
        auth_request: dict[str, Any] = {
            "clientId": self.client_id, "codeChallenge": oauth_data.code_challenge, "codeChallengeMethod": "S256",
            "responseMode": response_mode, "responseType": "code", "scope": "offline_access",
            "state": oauth_data.state,
        }
        if oauth_data.redirect_uri:
            auth_request["redirectUri"] = oauth_data.redirect_uri
        if session_token:
            auth_request["sessionToken"] = session_token
        headers = yield from self._op_auth_headers(base_url)
        response = yield httpx.Request("POST", base_url + SESSION_PATH, json={
            "auth": {"authRequest": auth_request, "prompt": prompt}},
            headers={**headers, "Idempotency-Key": new_idempotency_key()})
        session = RedirectSession.from_wire(raise_for_status(response))
        return {"auth_url": session.full_url, "authorization_endpoint": session.url_details.endpoint,
                "session_token": session.session_token}

    def _op_get_member_tokens(self, base_url: str, code: str | None, state: str | None,
                              oauth_data: OAuthData) -> Operation[Tokens]:
        if not code or not state:
            raise ValueError("missing code or state")
        if state != oauth_data.state:
            raise ValueError("invalid state")
        body_in = {"grantType": "authorization_code", "code": code, "codeVerifier": oauth_data.code_verifier}
        if oauth_data.redirect_uri:
            body_in["redirectUri"] = oauth_data.redirect_uri
        body = yield from self._token_request(base_url, body_in)
        return Tokens(AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"])),
                      RefreshToken(body.get("refresh_token", ""), TokenRole.MEMBER))

    def _op_logout(self, base_url: str, original_url: str) -> Operation[str]:
        headers = yield from self._op_auth_headers(base_url)
        response = yield httpx.Request("POST", base_url + SESSION_PATH, json={
            "logout": {"clientId": self.client_id}, "callbacks": {"postFlowUrl": original_url}},
            headers={**headers, "Idempotency-Key": new_idempotency_key()})
        session = RedirectSession.from_wire(raise_for_status(response))
        self._tokens = Tokens.empty()
        return session.full_url


class ApiKeyStrategy:
    """A site's API key (scope ``SCOPE.PROMOTE.VIEW-SEO``) and the site it is for."""

    def __init__(self, api_key: str, site_id: str) -> None:
        self.api_key = api_key
        self.site_id = site_id

    def _op_auth_headers(self, base_url: str) -> Operation[dict[str, str]]:
        return {"Authorization": self.api_key, "wix-site-id": self.site_id}
        yield  # an operation that sends nothing
