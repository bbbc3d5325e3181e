"""A user's FastAPI app (`http.app`) served beside the API, with both middleware orders and
custom-route auth on and off: its routes (one shadowing a built-in), its middleware that
stamps every response, its lifespan that opens the resource the graph uses, and what
`mount_prefix`, `logging_headers`, `auth.openapi`, `auth.cache` and the `disable_*` flags
do to the assembled server. The app lives in tests/app_custom/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from graphdock.server.api.routing import declared_routes
from graphdock.server.app import create_app
from graphdock.server.config import load_config
from graphdock.server.settings import Settings
from tests.support.server import ROOT, ServerProcess, wait_for

APP = ROOT / "tests" / "app_custom"
ALICE = {"Authorization": "Bearer tok-alice"}
OPENAPI = {
    "securitySchemes": {"Bearer": {"type": "http", "scheme": "bearer"}},
    "security": [{"Bearer": []}],
    "paths": {"/custom/hello": {"GET": []}},
}


@dataclass(frozen=True)
class Combo:
    order: str
    route_auth: bool
    prefix: str = ""
    cache: bool = False

    @property
    def name(self) -> str:
        out = f"{self.order}-auth-{'on' if self.route_auth else 'off'}"
        return (
            out
            + (f"-prefix-{self.prefix.strip('/')}" if self.prefix else "")
            + ("-cache" if self.cache else "")
        )


COMBOS = [
    Combo("middleware_first", False),
    Combo("middleware_first", True, cache=True),
    Combo("auth_first", False, prefix="/api"),
    Combo("auth_first", True),
]


def project_config(combo: Combo | None = None, **http) -> dict:
    combo = combo or Combo("middleware_first", False)
    http = {
        "app": f"{APP / 'webapp.py'}:app",
        "middleware_order": combo.order,
        "enable_custom_route_auth": combo.route_auth,
        "logging_headers": {
            "includes": ["x-tenant-*", "authorization"],
            "excludes": ["x-tenant-secret"],
        },
        **({"mount_prefix": combo.prefix} if combo.prefix else {}),
        **http,
    }
    auth: dict = {"path": f"{APP / 'auth.py'}:auth", "openapi": OPENAPI}
    if combo.cache:
        auth["cache"] = {"cache_keys": ["authorization"], "ttl_seconds": 300}
    return {
        "dependencies": [str(APP)],
        "graphs": {"greeter": f"{APP / 'graph.py'}:graph"},
        "auth": auth,
        "http": http,
    }


def write_config(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module", params=COMBOS, ids=lambda c: c.name)
def custom(request, tmp_path_factory):
    combo: Combo = request.param
    folder = tmp_path_factory.mktemp(combo.name)
    closed = folder / "closed"
    server = ServerProcess(
        folder / "data",
        write_config(folder, project_config(combo)),
        extra_args=["--log-level", "info"],
        env={"CUSTOM_APP_CLOSED_FILE": str(closed)},
    ).start()
    yield combo, server, server.url + combo.prefix
    server.cleanup()
    assert closed.read_text() == "closed"  # the app's lifespan ran its shutdown half


def test_the_custom_routes_are_served_and_admitted_as_declared(custom):
    combo, _, base = custom
    anonymous = httpx.get(base + "/custom/hello")
    alice = httpx.get(base + "/custom/hello", headers=ALICE)
    if combo.route_auth:
        assert anonymous.status_code == 401 and anonymous.json() == {"detail": "Invalid token"}
        assert alice.json()["user"] == "alice"
    else:
        assert anonymous.status_code == 200 and anonymous.json()["user"] is None
        assert alice.json()["user"] is None  # a public route admits nobody
    body = alice.json()
    assert body["hello"] == "world"
    # the app's lifespan set its state and yielded lifespan state, both seen by its route
    assert body["opened"] == "yes" and body["lifespan_state"] == "from-yield"


def test_a_user_route_shadows_a_built_in_one_but_never_the_health_check(custom):
    _, _, base = custom
    assert httpx.get(base + "/info", headers=ALICE).json() == {"shadowed": True}
    assert httpx.get(base + "/ok").json() == {"ok": True, "services": {}}


def test_the_custom_middleware_wraps_the_api_in_the_configured_order(custom):
    combo, _, base = custom
    ok = httpx.post(base + "/threads", json={}, headers=ALICE)
    refused = httpx.post(base + "/threads", json={})
    missing = httpx.get(base + "/no/such/route", headers=ALICE)
    assert ok.status_code == 200 and refused.status_code == 401 and missing.status_code == 404
    assert ok.headers["x-custom-mw"] == "stamped"
    assert missing.headers["x-custom-mw"] == "stamped"
    if combo.order == "auth_first":
        # authenticated before the middleware: it sees the user, and a refusal skips it
        assert ok.headers["x-custom-mw-saw-user"] == "alice"
        assert "x-custom-mw" not in refused.headers
    else:
        assert ok.headers["x-custom-mw-saw-user"] == "-"
        assert refused.headers["x-custom-mw"] == "stamped"


async def test_the_graph_uses_what_the_lifespan_opened_through_the_official_sdk(custom):
    _, _, base = custom
    client = get_client(url=base, headers=ALICE)
    thread = await client.threads.create(metadata={"via": "sdk"})
    result = await client.runs.wait(thread["thread_id"], "greeter", input={})
    assert result == {"greeting": "hello from the lifespan"}
    found = await client.threads.search(metadata={"via": "sdk"})
    assert [t["thread_id"] for t in found] == [thread["thread_id"]]
    await client.store.put_item(("notes",), "k", {"v": 1})
    assert (await client.store.get_item(("notes",), "k"))["value"] == {"v": 1}
    stream = [p.event async for p in client.runs.stream(None, "greeter", input={})]
    assert stream[0] == "metadata" and "values" in stream


def test_mount_prefix_serves_everything_under_it(custom):
    combo, server, base = custom
    if not combo.prefix:
        pytest.skip("no prefix in this combination")
    assert httpx.post(server.url + "/threads", json={}, headers=ALICE).status_code == 404
    assert httpx.get(server.url + "/ok").status_code == 200  # health checks stay at the root
    assert httpx.get(base + "/ok").status_code == 200
    docs = httpx.get(base + "/docs").text
    assert f"{combo.prefix}/openapi.json" in docs


def test_openapi_lists_the_custom_routes_and_the_declared_security(custom):
    _, _, base = custom
    spec = httpx.get(base + "/openapi.json").json()
    assert "/custom/hello" in spec["paths"] and "/threads" in spec["paths"]
    assert spec["components"]["securitySchemes"] == OPENAPI["securitySchemes"]
    assert spec["security"] == [{"Bearer": []}]
    assert spec["paths"]["/custom/hello"]["get"]["security"] == []


def test_auth_cache_keeps_authenticate_results_per_header(custom):
    combo, _, base = custom
    if not combo.route_auth:
        pytest.skip("the counting route is public only without custom-route auth")
    calls = lambda: httpx.get(base + "/custom/auth-calls", headers=ALICE).json()["calls"]  # noqa: E731
    before = calls()
    after = calls()
    assert after == before if combo.cache else after == before + 1


def test_logging_headers_choose_what_the_access_log_shows(custom):
    _, server, base = custom
    httpx.get(
        base + "/ok",
        headers={"x-tenant-name": "acme", "x-tenant-secret": "s3cr3t", **ALICE, "x-other": "o"},
    )
    # the access line is written once the response has gone, so it may trail the reply
    logged = wait_for(
        lambda: [
            line
            for line in server.log().splitlines()
            if "graphdock.access" in line and "acme" in line
        ],
        "the access-log line of the request with x-tenant-name",
        timeout=10,
    )
    assert "'x-tenant-name': 'acme'" in logged[-1]
    # excluded by pattern, not included, and a credential even though included
    assert "s3cr3t" not in server.log() and "x-other" not in logged[-1]
    assert "tok-alice" not in server.log()


def test_the_route_walk_sees_the_custom_routes_declared(tmp_path):
    for combo in COMBOS:
        config = load_config(write_config(tmp_path / combo.name, project_config(combo)))
        table = dict(declared_routes(create_app(Settings(config_path=config.path), config)))
        assert None not in table.values(), [r for r, a in table.items() if a is None]
        expected = "authenticated" if combo.route_auth else "public"
        hello = table[f"GET {combo.prefix}/custom/hello"]
        assert hello.describe() == expected
        assert f"POST {combo.prefix}/threads" in table


# ---------------------------------------------------------------- disable_* flags
GROUPS = {
    "assistants": ("POST", "/assistants/search"),
    "threads": ("POST", "/threads/search"),
    "runs": ("POST", "/runs/wait"),
    "crons": ("POST", "/runs/crons/search"),
    "store": ("POST", "/store/items/search"),
    "meta": ("GET", "/info"),
}


@pytest.fixture(scope="module")
def disabled_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("disabled")
    http = {f"disable_{name}": True for name in GROUPS}
    config = {"dependencies": [str(APP)], "graphs": {"greeter": f"{APP / 'graph.py'}:graph"}}
    server = ServerProcess(folder / "data", write_config(folder, {**config, "http": http}))
    yield server.start()
    server.cleanup()


@pytest.mark.parametrize("group", list(GROUPS))
def test_a_disabled_route_group_answers_404(disabled_server, group):
    method, path = GROUPS[group]
    response = httpx.request(method, disabled_server.url + path, json={})
    assert response.status_code == 404, response.text
    assert httpx.get(disabled_server.url + "/ok").status_code == 200


def test_every_disable_flag_is_a_route_group_or_a_behaviour():
    from graphdock.server.api.groups import BEHAVIOUR_FLAGS, route_groups
    from graphdock.server.config import KNOWN_SECTION_KEYS

    flags = {
        k.removeprefix("disable_") for k in KNOWN_SECTION_KEYS["http"] if k.startswith("disable_")
    }
    groups = {g.name for g in route_groups()}
    built_elsewhere = {"mcp", "a2a", "ui", "event_streaming"}  # their groups come with them
    assert flags <= groups | set(BEHAVIOUR_FLAGS) | built_elsewhere


# ---------------------------------------------------------------- a failing lifespan
def test_a_failing_lifespan_stops_the_start_in_one_line(tmp_path):
    path = write_config(tmp_path, project_config())
    done = subprocess.run(
        [sys.executable, "-m", "graphdock.cli", "serve", "--config", str(path),
         "--data-dir", str(tmp_path / "data"), "--port", "0", "--log-level", "warning"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**__import__("os").environ, "CUSTOM_APP_FAIL": "1"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith("graphdock")]
    assert lines == [
        f"graphdock: http.app: the lifespan of {APP / 'webapp.py'}:app failed: "
        "RuntimeError: the resource would not open"
    ], done.stderr


def test_an_http_app_that_is_not_an_app_is_refused_by_name(tmp_path):
    (tmp_path / "notapp.py").write_text("app = 42\n")
    path = write_config(tmp_path, {**project_config(), "http": {"app": "./notapp.py:app"}})
    done = subprocess.run(
        [sys.executable, "-m", "graphdock.cli", "dev", "--config", str(path), "--no-reload",
         "--data-dir", str(tmp_path / "data"), "--port", "0"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "http.app" in done.stderr and "not a Starlette or FastAPI application" in done.stderr
