"""How fast graphdock Studio loads, printed, not asserted.

    python bench/ui.py [--loads 10]

Starts `graphdock dev` on the bundled examples, opens /ui in headless Chromium (Debian's
chromium, driven by Playwright) and measures, in the page, from the start of the navigation
to the moment the first view shows the server's assistants (the page, its script and
stylesheet have loaded, the UI has rendered, called the API and shown the answer):
  * a cold load: a new browser context each time, so nothing is cached;
  * a warm load: a reload in the same context (hashed assets come from the cache);
and the bundle's size, raw and gzipped, as the browser fetches it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import launch  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

EXAMPLES = ROOT / "examples" / "langgraph.json"
BUNDLE = ROOT / "src" / "graphdock" / "server" / "api" / "ui_bundle"
READY = "main table tbody tr"  # the assistants list, filled from the API
# Notes, in the page, when the assistants list first shows: milliseconds since the navigation
# started (performance.now()), free of the time Playwright's own round trips take.
STOPWATCH = """
new MutationObserver((_, observer) => {
  if (document.querySelector(READY)) {
    window.__readyAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
""".replace("READY", repr(READY))


def load_ms(page, url: str, reload: bool = False) -> float:
    if reload:
        page.reload()
    else:
        page.goto(url)
    # (wait_for_function would evaluate a string in the page, which the UI's CSP forbids)
    page.wait_for_selector(READY)
    return page.evaluate("window.__readyAt")


def bundle_sizes() -> dict[str, int]:
    files = [p for p in BUNDLE.rglob("*") if p.is_file()]
    return {
        "bundle_files": len(files),
        "bundle_bytes": sum(p.stat().st_size for p in files),
        "bundle_gzip_bytes": sum(len(gzip.compress(p.read_bytes(), 9)) for p in files),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", EXAMPLES, command="dev").start()
        try:
            url = server.url + "/ui/"
            with sync_playwright() as playwright:
                browser = launch(playwright)
                warmup = browser.new_context()
                warmup.add_init_script(STOPWATCH)
                load_ms(warmup.new_page(), url)  # the server's first answers, Chromium's start
                warmup.close()
                cold, warm = [], []
                for _ in range(args.loads):
                    context = browser.new_context()
                    context.add_init_script(STOPWATCH)
                    page = context.new_page()
                    cold.append(load_ms(page, url))
                    warm.append(load_ms(page, url, reload=True))
                    context.close()
                browser.close()
        finally:
            server.stop()
    figures = {
        "ui_cold_load_ms_p50": round(statistics.median(cold), 1),
        "ui_cold_load_ms_max": round(max(cold), 1),
        "ui_warm_load_ms_p50": round(statistics.median(warm), 1),
        "ui_warm_load_ms_max": round(max(warm), 1),
        "loads": args.loads,
        **bundle_sizes(),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
