"""graphdock Studio, the web UI: its built bundle served at /ui.

The bundle (the `ui/` folder, built by `make ui`) ships inside the package, in
`server/api/ui_bundle/`. It is a single-page app that speaks only the public API from the
browser, so these routes serve files and nothing else:

* `/ui/assets/...`: the script and stylesheet, whose names carry a hash of their content,
  so a browser may keep them for a year without asking again;
* every other path under `/ui`: `index.html`, never cached, because it is a page of the app
  (a deep link such as `/ui/threads/<id>` that someone pasted), and because it names the
  hashed assets of the release being served.

The pages are served with a Content-Security-Policy that lets them load and call nothing
but this server: the UI works offline and cannot leak a request elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, RedirectResponse, Response

from graphdock.server.api.access import public
from graphdock.server.api.responses import json_response
from graphdock.server.api.routing import api_router

BUNDLE = Path(__file__).resolve().parents[1] / "ui_bundle"
ASSETS = BUNDLE / "assets"

ASSET_CACHE = "public, max-age=31536000, immutable"
PAGE_HEADERS = {
    "cache-control": "no-cache",
    "content-security-policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}

# Public: the files of the page. The page then asks for credentials for the API itself.
router = api_router(include_in_schema=False)
# `/` in `graphdock dev`: a person who opens the server's address lands in the UI.
dev_root = api_router(include_in_schema=False)


def _asset(name: str) -> Path | None:
    """The asset file called `name`, if the bundle has one (never a path outside it)."""
    path = (ASSETS / name).resolve()
    return path if path.parent == ASSETS and path.is_file() else None


@router.api_route("/ui/assets/{name:path}", methods=["GET", "HEAD"])
@public
async def ui_asset(name: str) -> Response:
    path = _asset(name)
    if path is None:
        return json_response({"detail": f"The UI has no asset called {name!r}"}, 404)
    return FileResponse(
        path, headers={"cache-control": ASSET_CACHE, "x-content-type-options": "nosniff"}
    )


@router.api_route("/ui", methods=["GET", "HEAD"])
@router.api_route("/ui/{page:path}", methods=["GET", "HEAD"])
@public
async def ui_page(page: str = "") -> Response:
    index = BUNDLE / "index.html"
    if not index.is_file():
        return json_response(
            {
                "detail": "This graphdock install has no UI bundle: run `make ui` in a "
                "source checkout, or set http.disable_ui in langgraph.json"
            },
            503,
        )
    return FileResponse(index, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@dev_root.api_route("/", methods=["GET", "HEAD"])
@public
async def to_ui() -> Response:
    return RedirectResponse("/ui/", status_code=307)
