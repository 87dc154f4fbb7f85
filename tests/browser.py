"""Debian's Chromium driven by Playwright (Playwright never downloads a browser here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests import report

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make browser-deps` installs it)"
)


@contextmanager
def browser_page() -> Iterator[Any]:
    """A fresh headless Chromium page."""
    with chromium() as browser:
        yield browser.new_page()


PHONE = {"width": 390, "height": 844}  # a common phone's screen, in CSS pixels


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium to open several separate browser sessions in (`browser.new_context()`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        report.ran("Chromium", browser.version)
        try:
            yield browser
        finally:
            browser.close()
