"""Headless Chromium driven by Playwright, for the tests that click through the pages."""

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from tests.support.prerequisites import require

# Debian's /usr/bin/chromium, or the one `nix develop` names in $CHROMIUM; LAB_CHROMIUM, when set,
# replaces both (the GitHub workflow points it at Playwright's own Chromium: Ubuntu's is a snap).
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Debian's Chromium, headless, with nothing that reaches for the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_executable(playwright) -> str:
    """LAB_CHROMIUM if set; else CHROMIUM; else, where there is no system Chromium at all, the one
    `playwright install chromium` put in place, if it did. The tests never download a browser."""
    chosen = os.environ.get("LAB_CHROMIUM")
    if chosen:
        require(Path(chosen).exists(), f"LAB_CHROMIUM={chosen}: no such file")
        return chosen
    if Path(CHROMIUM).exists():
        return CHROMIUM
    bundled = playwright.chromium.executable_path
    require(Path(bundled).exists(), "chromium not found (apt-get install chromium)")
    return bundled


@contextlib.contextmanager
def browser_page() -> Iterator:
    """A Playwright page in headless Chromium (which one: chromium_executable), closed after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = chromium_executable(playwright)
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
