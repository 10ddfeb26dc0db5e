"""Every string the hosted pages show has a German translation, and unknown languages fall back
to English."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from headless_redirects.domain.catalogue import CATALOGUE, FLOW_INTENTS
from headless_redirects.web import hosted, pages
from headless_redirects.web.i18n import LANGUAGES, gettext_for, pick_language

WEB = Path(hosted.__file__).parent


def _msgids() -> set[str]:
    ids: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        ids |= set(re.findall(r'_\("([^"]+)"\)', template.read_text()))
    for title, text in pages._MESSAGES.values():
        ids |= {title, text}
    ids |= set(hosted._LOGIN_ERRORS.values())
    ids |= set(re.findall(r'_\("([^"]+)"\)', (WEB / "hosted.py").read_text()))
    ids |= set(re.findall(r'gettext_for\(lang\)\("([^"]+)"\)', (WEB / "checkout.py").read_text()))
    ids |= set(re.findall(r'_\("([^"]+)"\)', (WEB / "account.py").read_text()))
    # the emails of the identity API (verification codes, password reset)
    ids |= set(re.findall(r'_\("([^"]+)"\)', (WEB.parent / "service" / "messages.py").read_text()))
    ids |= {CATALOGUE[i].complete_label for i in FLOW_INTENTS} | {CATALOGUE[i].back_label or "" for i in FLOW_INTENTS}
    ids.discard("")
    # the demo provider's page titles and detail labels
    demo = (WEB.parent / "flows" / "demo.py").read_text()
    ids |= set(re.findall(r'self\._priced\("([^"]+)"', demo)) | set(re.findall(r'title="([^"]+)"', demo))
    labels = {"When", "Time zone", "With", "Where", "Billing", "Reservation", "Product", "Staff"}
    assert all(f'("{label}", ' in demo for label in labels)
    ids |= labels
    return ids


def test_every_hosted_string_is_translated_to_german() -> None:
    with (WEB / "locale" / "de" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    missing = [m for m in sorted(_msgids()) if not (catalog.get(m) and catalog.get(m).string)]
    assert missing == []
    assert len(_msgids()) > 20


def test_language_choice() -> None:
    assert LANGUAGES == ("en", "de")
    assert pick_language("de-DE") == "de" and pick_language("xx", None) == "en" and pick_language(None) == "en"
    assert gettext_for("de")("Log in") == "Anmelden"
    assert gettext_for("fr")("Log in") == "Log in"
