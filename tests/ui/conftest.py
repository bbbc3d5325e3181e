"""The browser side of the UI tests: one headless Chromium per test module, a fresh browser
context (cookies, sessionStorage) per test, and a record of every request the page makes,
checked after each test: none may leave the server's origin.

Each module starts its own server (a `server` fixture of module scope) and is kept on one
xdist worker (`xdist_group`), so that a module costs one server and one browser.
Screenshots go to $GRAPHDOCK_SCREENSHOTS when set (`make screenshots`: docs/screenshots),
else to a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import launch, open_studio


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    wanted = os.environ.get("GRAPHDOCK_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def studio(browser, server, screenshot_dir):
    yield from open_studio(browser, server, screenshot_dir)
