"""The UI bundle that ships in the package is exactly what ui/ builds to, every file of it is
package data, and `http.disable_ui` turns the UI off."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import tomllib

import httpx

from tests.support.server import ROOT, ServerProcess

UI = ROOT / "ui"
PACKAGE = ROOT / "src" / "graphdock"
BUNDLE = PACKAGE / "server" / "api" / "ui_bundle"


def files(folder) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_the_committed_bundle_is_what_the_sources_build_to(tmp_path):
    vite = UI / "node_modules" / "vite" / "bin" / "vite.js"
    node = shutil.which("node")
    assert node, "Node.js is missing: the UI is built with it (Debian's nodejs package)"
    assert vite.exists(), "ui/node_modules is missing: run `make ui-deps` (make test does it)"
    out = tmp_path / "bundle"
    build = subprocess.run(
        [node, str(vite), "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn"],
        cwd=UI,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"the UI does not build:\n{build.stdout}\n{build.stderr}"
    built, committed = files(out), files(BUNDLE)
    differ = sorted(
        (set(built) ^ set(committed))
        | {n for n in built.keys() & committed.keys() if built[n] != committed[n]}
    )
    assert not differ, (
        "src/graphdock/server/api/ui_bundle is not what ui/ builds to: run `make ui` and "
        f"commit the result (files that differ: {differ})"
    )


def test_every_bundle_file_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["graphdock"]
    shipped = files(BUNDLE)
    assert "index.html" in shipped and any(n.endswith(".js") for n in shipped)
    for name in shipped:
        path = (BUNDLE / name).relative_to(PACKAGE).as_posix()
        assert any(fnmatch.fnmatch(path, p) for p in patterns), f"{path} would not be installed"


def test_disable_ui_turns_it_off(tmp_path):
    config = tmp_path / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "dependencies": [str(ROOT / "examples")],
                "graphs": {"chat": f"{ROOT / 'examples' / 'chat.py'}:graph"},
                "http": {"disable_ui": True},
            }
        )
    )
    server = ServerProcess(tmp_path / "data", config=config, command="dev").start()
    try:
        assert httpx.get(server.url + "/ui/").status_code == 404
        assert httpx.get(server.url + "/ui/assets/index.js").status_code == 404
        # with no UI to go to, `/` stays what it is in `serve`: the health answer
        assert httpx.get(server.url + "/", follow_redirects=False).json()["ok"] is True
        assert "UI:    off (http.disable_ui)" in server.log()
    finally:
        server.stop()
