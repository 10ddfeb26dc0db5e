"""The emails the identity API sends, translated like the hosted pages (``web.i18n``)."""

from __future__ import annotations

from ..web.i18n import gettext_for

__all__ = ["recovery_message", "verification_message"]


def verification_message(lang: str | None, code: str, minutes: int) -> tuple[str, str]:
    _ = gettext_for(lang or "en")
    subject = _("Your verification code")
    body = (_("Your verification code is %(code)s.") % {"code": code} + "\n\n"
            + _("It expires in %(minutes)s minutes. If you did not sign up, ignore this email.")
            % {"minutes": minutes} + "\n")
    return subject, body


def recovery_message(lang: str | None, link: str, minutes: int) -> tuple[str, str]:
    _ = gettext_for(lang or "en")
    subject = _("Reset your password")
    note = _("The link works once and expires in %(minutes)s minutes. If you did not ask for it, ignore this email.")  # noqa: E501
    body = _("Open this link to choose a new password:") + "\n\n" + link + "\n\n" + note % {"minutes": minutes} + "\n"
    return subject, body
