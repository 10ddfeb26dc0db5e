"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# scripts/screenshots sets this to docs/screenshots to refresh the committed screenshots.
SCREENSHOTS_ENV = "HEADLESS_REDIRECTS_SCREENSHOTS_DIR"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def screenshot_path(name: str) -> Path:
    """Where a test saves the screenshot ``name``: a temporary folder (tests never write into the
    working tree), or ``$HEADLESS_REDIRECTS_SCREENSHOTS_DIR`` when set."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or Path(tempfile.gettempdir()) / "headless-redirects-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


@contextmanager
def chromium() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail("Chromium is missing: `apt-get install chromium` (the README's test command installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
