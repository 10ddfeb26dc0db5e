"""Server-rendered pages of the hosted site."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .responses import HTML_SECURITY_HEADERS

__all__ = ["render", "render_message"]

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)

_MESSAGES = {
    "not_found": ("Link not found", "This link does not exist. Check that you copied all of it."),
    "expired": ("Link expired", "This link has expired. Go back to the site and start again."),
    "error": ("Something went wrong", "The request could not be completed."),
}


def render(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code, headers=HTML_SECURITY_HEADERS)


def render_message(
    request: Request | None,
    status_code: int,
    kind: str,
    detail: str | None = None,
    back_url: str | None = None,
) -> HTMLResponse:
    title, text = _MESSAGES.get(kind, _MESSAGES["error"])
    return render(
        "message.html",
        status_code,
        title=title,
        text=text,
        detail=detail if kind == "error" else None,
        back_url=back_url,
        back_label="Back to the site",
    )
