"""headless-redirects: a self-hostable redirect-session service for headless sites."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
