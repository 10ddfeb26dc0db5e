"""The ``x-wix-linguist`` request header: ``lang|locale|isPrimaryLanguage|instanceId``."""

from __future__ import annotations

import re

__all__ = ["language_from_header"]

_HEADER = re.compile(
    r"^(?P<lang>[a-z]{2,3}(?:-[A-Za-z]{2,4})?)\|(?P<locale>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)"
    r"\|(?P<primary>true|false)\|(?P<instance>[0-9a-fA-F-]{36})$"
)


def language_from_header(value: str | None) -> str | None:
    """The language of a well-formed header (``de|de-de|true|<guid>`` → ``de``); ``None`` for a
    missing or malformed one, which is ignored."""
    if not value:
        return None
    match = _HEADER.match(value.strip())
    return match.group("lang") if match else None
