"""Where a finished flow sends the visitor, and with which query parameters (SPEC §5).

Every redirect to a callback keeps that URL's own query and adds ``wixMemberLoggedIn``; a
completed checkout adds what identifies the order it created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .callbacks import add_query
from .catalogue import CATALOGUE, Catalogue

__all__ = ["PlacedOrder", "back_target", "callback", "completion_parameters"]


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """What a flow provider returns when it places an order."""

    order_id: str
    order_number: str
    event_id: str | None = None


def completion_parameters(intent: str, order: PlacedOrder, catalogue: Catalogue = CATALOGUE) -> dict[str, str]:
    """The thank-you page's parameters (the ``thankYouPageUrl`` documentation), as the intent's
    catalogue entry declares them."""
    out: dict[str, str] = {}
    for name, attribute in catalogue[intent].outcome:
        value = getattr(order, attribute)
        if value is None:  # a provider bug (an events order without its event), not a visitor's
            raise ValueError(f"the placed {intent} order has no {attribute}")
        out[name] = value
    return out


def callback(url: str, params: Mapping[str, str], member_logged_in: bool) -> str:
    return add_query(url, {**params, "wixMemberLoggedIn": "true" if member_logged_in else "false"})


def back_target(intent: str, callbacks: Mapping[str, str], params: Mapping[str, str],
                member_logged_in: bool, catalogue: Catalogue = CATALOGUE) -> str | None:
    """The back link's destination (the callback the intent's entry names); for plans,
    ``planListUrl`` with ``planIds`` and the ``checkoutData`` that resumes this checkout when
    passed back."""
    entry = catalogue.get(intent)
    name = entry.back_link if entry is not None else None
    url = callbacks.get(name) if name else None
    if url is None:
        return None
    return callback(url, params, member_logged_in)
