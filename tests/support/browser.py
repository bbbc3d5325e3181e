"""Headless Chromium for the UI tests and the UI bench: Debian's `chromium` package, driven
by Playwright (`executable_path`: Playwright's own browser download is never used).

The flags keep Chromium from calling home (component updates, sync, background networking):
on a closed network those calls fail noisily, and a test must see only the page's requests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = Path(os.environ.get("GRAPHDOCK_CHROMIUM", "/usr/bin/chromium"))
# How long the page may take to show what a test waits for. Not an assertion about speed:
# a loaded machine (the suite runs three ways parallel on two cores) is slow at times.
WAIT_MS = 30_000
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    """A headless Chromium (Playwright `Browser`) from the machine's Debian package."""
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium (`make test` does it: "
            "apt-get install -y chromium), or point GRAPHDOCK_CHROMIUM at a Chromium"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class RequestLog:
    """Every request a browser context makes, as (method, url, headers, body)."""

    def __init__(self, context):
        self.requests: list[tuple[str, str, dict[str, str], str | None]] = []
        context.on("request", self._record)

    def _record(self, request) -> None:
        self.requests.append((request.method, request.url, request.headers, request.post_data))

    def foreign(self, allowed_origin: str) -> list[str]:
        """The requests that went anywhere but `allowed_origin` (data: URLs stay in the page)."""
        return [
            f"{method} {url}"
            for method, url, _, _ in self.requests
            if not url.startswith("data:") and origin(url) != allowed_origin
        ]

    def api_calls(self, path_part: str) -> list[tuple[str, str, dict[str, str], str | None]]:
        """The requests whose path contains `path_part`."""
        return [r for r in self.requests if path_part in urlsplit(r[1]).path]


@dataclass
class Studio:
    """The UI open in a browser tab against one server."""

    page: object
    base: str
    requests: RequestLog
    shots: Path

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def open_studio(browser, server, screenshot_dir: Path, init_script: str | None = None):
    """A fresh browser context on `server` (a generator, for a fixture to yield from): after
    the test, the page must have raised nothing and sent no request off the server's origin."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1360, "height": 860}, color_scheme="light")
    context.set_default_timeout(WAIT_MS)
    if init_script:
        context.add_init_script(init_script)
    log = RequestLog(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield Studio(page, server.url, log, screenshot_dir)
    context.close()
    assert not errors, f"the page raised: {errors}"
    assert not log.foreign(server.url), f"requests left {server.url}: {log.foreign(server.url)}"
