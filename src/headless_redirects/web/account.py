"""The hosted password-reset page (SPEC §11): the link emailed by ``recovery/v1/send-email``.

The recovery token in the form is the secret that proves the request: a forged form would need
it, so the page needs no cookie and no separate CSRF token.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain.errors import ApplicationError, ValidationFailed
from .i18n import gettext_for
from .pages import page_language, render, render_message
from .services import services_of

__all__ = ["RESET_PATH", "routes"]

RESET_PATH = "/account/reset-password"


async def reset_password(request: Request) -> Response:
    services = services_of(request)
    lang = page_language(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        if not await services.identity_api.recovery_is_live(token):
            return render_message(request, 410, "reset_expired", lang=lang)
        return render("reset_password.html", lang=lang, token=token, error=None)
    form = await request.form()
    token, password = str(form.get("token", "")), str(form.get("password", ""))
    lang = page_language(request) if "lang" not in form else str(form.get("lang"))
    _ = gettext_for(lang)
    try:
        target = (await services.identity_api.recover(token, password)).redirect_url
    except ValidationFailed:
        return render("reset_password.html", 400, lang=lang, token=token,
                      error=_("The password needs at least 8 characters."))
    except ApplicationError:
        return render_message(request, 410, "reset_expired", lang=lang)
    if target is not None:
        return RedirectResponse(target, 303, headers={"referrer-policy": "no-referrer", "cache-control": "no-store"})
    return render_message(request, 200, "password_changed", lang=lang)


def routes() -> list[Route]:
    return [Route(RESET_PATH, reset_password, methods=["GET", "POST"])]
