"""The intent catalogue: one declaration per intent, and the lookups everything else derives from.

    from headless_redirects.domain.catalogue import CATALOGUE

    entry = CATALOGUE["ecomCheckout"]
    entry.path            # "/flow/ecom-checkout": its hosted page
    entry.complete_label  # "Place order"; entry.back_label, entry.back_link ("cartPageUrl")
    CATALOGUE.flow_intents  # the intents web/checkout.py serves

A catalogue is immutable: ``CATALOGUE.with_entry(Intent(...))`` is a new one with an extra
intent (the tests build one so; the service uses ``CATALOGUE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .entries import ENTRIES
from .entry import CALLBACK_FIELDS, Field, Intent
from .reading import IntentReader, intent_reader

__all__ = ["CALLBACK_FIELDS", "CATALOGUE", "FLOW_INTENTS", "Catalogue", "Field", "Intent"]


class Catalogue:
    """The intents by wire name, in declaration order."""

    __slots__ = ("_entries", "flow_intents", "names", "paths", "readers")

    def __init__(self, entries: Iterable[Intent]) -> None:
        self._entries: dict[str, Intent] = {}
        for entry in entries:
            if entry.name in self._entries:
                raise ValueError(f"intent {entry.name!r} is declared twice")
            self._entries[entry.name] = entry
        self.names = tuple(self._entries)
        self.flow_intents = tuple(e.name for e in self._entries.values() if e.flow_page)
        self.paths = {e.name: e.path for e in self._entries.values()}
        # The validator of each intent's object, built from its declaration once.
        self.readers: dict[str, IntentReader] = {e.name: intent_reader(e) for e in self._entries.values()}

    def __getitem__(self, name: str) -> Intent:
        return self._entries[name]

    def get(self, name: str) -> Intent | None:
        return self._entries.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Intent]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def with_entry(self, entry: Intent) -> Catalogue:
        """A new catalogue: this one's intents plus ``entry`` (this one is left as it is)."""
        return Catalogue((*self, entry))


CATALOGUE = Catalogue(ENTRIES)
# The checkout-like pages (web/checkout.py serves these paths).
FLOW_INTENTS = CATALOGUE.flow_intents
