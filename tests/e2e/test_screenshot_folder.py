"""Tests never write into the working tree: screenshots go to a temporary folder unless
scripts/screenshots asks for docs/screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import SCREENSHOTS_ENV, screenshot_path

ROOT = Path(__file__).resolve().parents[2]


def test_screenshots_go_to_a_temporary_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCREENSHOTS_ENV, raising=False)
    assert ROOT not in screenshot_path("thank-you").resolve().parents


def test_scripts_screenshots_refreshes_the_committed_ones(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = (ROOT / "scripts" / "screenshots").read_text()
    assert f'export {SCREENSHOTS_ENV}="$PWD/docs/screenshots"' in script
    monkeypatch.setenv(SCREENSHOTS_ENV, str(tmp_path))
    assert screenshot_path("thank-you") == tmp_path / "thank-you.png"
