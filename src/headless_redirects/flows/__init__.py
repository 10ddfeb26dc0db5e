"""Flow providers: what a checkout, product or booking page shows and how an order is placed.

See ``docs/flow-providers.md`` for writing one; ``demo`` is the built-in provider.
"""

from .provider import Buyer, FlowProvider, FlowRequest, FlowView, LineItem, Option, ProviderContext
from .registry import load_provider

__all__ = ["Buyer", "FlowProvider", "FlowRequest", "FlowView", "LineItem", "Option", "ProviderContext",
           "load_provider"]
