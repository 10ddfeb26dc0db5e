"""Server-rendered pages of the hosted site, translated (``web.i18n``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .i18n import gettext_for, pick_language
from .responses import HTML_SECURITY_HEADERS

__all__ = ["page_language", "render", "render_message"]

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)

# kind -> (title, text); both are msgids of the catalogs.
_MESSAGES = {
    "not_found": ("Link not found", "This link does not exist. Check that you copied all of it."),
    "expired": ("Link expired", "This link has expired. Go back to the site and start again."),
    "used": ("Link already used", "This link was already used. Go back to the site and start again."),
    "other_browser": ("Opened in another browser",
                      "This link was opened in another browser. Continue there, or start again on the site."),
    "invalid_request": ("Something went wrong", "This authorization request is not valid."),
    "error": ("Something went wrong", "The request could not be completed."),
    "logged_in": ("Done", "You are logged in."),
    "logged_out": ("Done", "You are logged out."),
    "cancelled": ("Cancelled", "You left the checkout. Nothing was ordered."),
    "added": ("Done", "The product is in your cart."),
    "reset_expired": ("Link expired", "This password reset link has expired or was already used. Ask for a new one."),
    "password_changed": ("Done", "Your password was changed. You can log in with it now."),
}


def page_language(request: Request | None, session_lang: str | None = None) -> str:
    query_lang = request.query_params.get("lang") if request is not None else None
    return pick_language(query_lang, session_lang)


def render(template: str, status_code: int = 200, *, lang: str = "en",
           headers: Mapping[str, str] | None = None, **context: object) -> HTMLResponse:
    html = _env.get_template(template).render(lang=lang, _=gettext_for(lang), **context)
    return HTMLResponse(html, status_code, headers={**HTML_SECURITY_HEADERS, **(headers or {})})


def render_message(
    request: Request | None,
    status_code: int,
    kind: str,
    detail: str | None = None,
    back_url: str | None = None,
    *,
    lang: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    title, text = _MESSAGES.get(kind, _MESSAGES["error"])
    return render(
        "message.html",
        status_code,
        headers=headers,
        lang=lang or page_language(request),
        title=title,
        text=text,
        detail=detail if kind in ("error", "invalid_request") else None,
        back_url=back_url,
        kind=kind,
    )
