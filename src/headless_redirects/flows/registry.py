"""Choosing a site's flow provider by name: ``demo`` or ``package.module:Class``."""

from __future__ import annotations

import importlib

from .provider import FlowProvider, ProviderContext

__all__ = ["load_provider"]


def load_provider(name: str, context: ProviderContext) -> FlowProvider:
    if name == "demo":
        from .demo import DemoProvider

        return DemoProvider(context)
    module_name, _, class_name = name.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"flow provider {name!r}: use 'demo' or 'package.module:Class'")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, FlowProvider)):
        raise ValueError(f"flow provider {name!r} is not a FlowProvider subclass")
    return cls(context)
