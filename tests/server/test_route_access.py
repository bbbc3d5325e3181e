"""Every route declares its authorization, and a route that does not is refused.

The walk covers the app exactly as the server assembles it, so a route group added later
(or a config that switches one on) is walked too. A test of the walk adds an undeclared
route and sees it caught; a real server shows such a route answering 403 to everyone.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from graphdock.server.api.access import public, requires
from graphdock.server.api.routing import api_router, declared_routes
from graphdock.server.app import create_app
from graphdock.server.settings import Settings
from tests.support.server import ROOT, ServerProcess, free_port

CONFIGS = [
    ROOT / "tests" / "app" / "langgraph.json",
    ROOT / "tests" / "app_auth" / "langgraph.json",
    ROOT / "examples" / "langgraph.json",
    ROOT / "tests" / "app_custom" / "langgraph.json",  # a user's http.app beside the API
]


def undeclared(app: FastAPI) -> list[str]:
    return [route for route, access in declared_routes(app) if access is None]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_route_of_the_assembled_app_declares_its_access(config: Path):
    app = create_app(Settings(config_path=config))
    routes = declared_routes(app)
    assert len(routes) > 50
    assert undeclared(app) == []
    # a few spot checks that the declarations say what the routes do
    table: dict[str, str] = {}
    for route, access in routes:  # the first of a path and method is the one that answers
        table.setdefault(route, access.describe())
    assert table["GET /ok"] == "public"
    assert table["POST /threads/{thread_id}/runs/wait"] == "assistants.read, threads.create_run"
    assert table["DELETE /threads/{thread_id}"] == "threads.delete"
    assert table["PUT /store/items"] == "store.put"
    assert table["POST /mcp"] == "assistants.read, assistants.search, threads.create_run"
    assert table["GET /.well-known/agent-card.json"] == "assistants.read"


@pytest.mark.parametrize("route_auth", [True, False])
def test_a_users_http_app_routes_are_walked_declared(tmp_path, route_auth):
    """With `enable_custom_route_auth` the user's routes need a caller; without it they are
    declared public. Either way the walk sees a declaration, never nothing."""
    config = json.loads(CONFIGS[3].read_text())
    app_dir = CONFIGS[3].parent
    config["dependencies"] = [str(app_dir)]
    config["graphs"] = {"greeter": f"{app_dir / 'graph.py'}:graph"}
    config["auth"] = {"path": f"{app_dir / 'auth.py'}:auth"}
    config["http"] = {"app": f"{app_dir / 'webapp.py'}:app", "enable_custom_route_auth": route_auth}
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    app = create_app(Settings(config_path=tmp_path / "langgraph.json"))
    assert undeclared(app) == []
    table = {route: access.describe() for route, access in declared_routes(app)}
    expected = "authenticated" if route_auth else "public"
    assert table["GET /custom/hello"] == table["GET /custom/auth-calls"] == expected
    assert table["POST /threads"] == "threads.create"


def test_the_walk_catches_a_route_added_without_a_declaration():
    app = create_app(Settings(config_path=CONFIGS[0]))
    extra = api_router()

    @extra.get("/threads/{thread_id}/secrets")
    async def leak(thread_id: str):  # no @requires, no @public
        return {"thread_id": thread_id}

    app.include_router(extra)
    assert undeclared(app) == ["GET /threads/{thread_id}/secrets"]


def test_a_permit_must_name_a_known_resource_and_action():
    with pytest.raises(ValueError, match="unknown permit"):
        requires("threads.steal")
    with pytest.raises(ValueError, match="unknown permit"):
        requires("wallets.read")


class _Served:
    """A FastAPI app on a real port, in a thread of this process."""

    def __init__(self, app: FastAPI):
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return f"http://127.0.0.1:{self.port}"
            threading.Event().wait(0.02)
        raise RuntimeError("test server did not start")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_an_undeclared_route_answers_403_on_a_real_server():
    app = FastAPI()
    router = api_router()

    @router.get("/forgotten")
    async def forgotten():
        return {"leaked": True}

    @router.get("/fine")
    @public
    async def fine():
        return {"ok": True}

    app.include_router(router)
    with _Served(app) as url:
        response = httpx.get(url + "/forgotten")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "GET /forgotten declares no authorization, so it is refused"
        }
        assert httpx.get(url + "/fine").json() == {"ok": True}


# ---------------------------------------------------------------- one parse per body
AUTH_READING_THE_BODY = """
from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(body: dict, request, headers: dict) -> str:
    again = await request.json()  # the same parse the route makes, not a second one
    assert again == body
    return "reader"
"""


@pytest.fixture(scope="module")
def body_reading_server(tmp_path_factory):
    project = tmp_path_factory.mktemp("one-parse")
    (project / "auth.py").write_text(AUTH_READING_THE_BODY)
    config = {
        "dependencies": [str(ROOT / "tests" / "app")],
        "graphs": {"agent": str(ROOT / "tests" / "app" / "graph.py") + ":graph"},
        "auth": {"path": "./auth.py:auth"},
    }
    (project / "langgraph.json").write_text(json.dumps(config))
    server = ServerProcess(project / "data", project / "langgraph.json")
    yield server.start()
    server.cleanup()


def _counts(url: str) -> dict:
    return httpx.get(url + "/metrics", params={"format": "json"}).json()["requests"]


async def test_each_request_body_is_parsed_once(body_reading_server):
    url = body_reading_server.url
    before = _counts(url)
    async with httpx.AsyncClient(base_url=url) as http:
        thread = (await http.post("/threads", json={"metadata": {"k": "v"}})).json()
        bodies = [
            ("/threads/search", {"metadata": {"k": "v"}}),
            ("/threads/count", {}),
            (f"/threads/{thread['thread_id']}/runs/wait", {"assistant_id": "agent", "input": {}}),
            ("/runs/wait", {"assistant_id": "agent", "input": {"messages": []}}),
            ("/assistants/search", {"limit": 5}),
        ]
        results = await asyncio.gather(*(http.post(path, json=body) for path, body in bodies))
    assert [r.status_code for r in results] == [200] * len(bodies), [r.text for r in results]
    after = _counts(url)
    sent = len(bodies) + 1
    assert after["bodies"] - before["bodies"] == sent
    assert after["json_parses"] - before["json_parses"] == sent
