"""Translations of the hosted pages: gettext catalogs (``locale/<lang>/LC_MESSAGES/messages.po``)
read with Babel at start-up. ``lang`` picks the catalog; an unknown one falls back to English."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = ["LANGUAGES", "gettext_for", "pick_language"]

_LOCALE = Path(__file__).with_name("locale")
LANGUAGES = ("en", *sorted(p.name for p in _LOCALE.iterdir() if (p / "LC_MESSAGES" / "messages.po").exists()))


@cache
def _translations(lang: str) -> NullTranslations:
    po = _LOCALE / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among ``candidates`` (``de``, ``de-DE``...), else English."""
    for candidate in candidates:
        if candidate:
            lang = candidate.strip().lower().replace("_", "-").split("-")[0]
            if lang in LANGUAGES:
                return lang
    return "en"


def gettext_for(lang: str) -> Callable[[str], str]:
    return _translations(pick_language(lang)).gettext
