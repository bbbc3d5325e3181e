"""Graph factories that take a `ServerRuntime`: the official SDK's integration app runs
unchanged, and each factory form learns why it is built (`access_context`), for whom, with
the server's store, and gets `execution_runtime` only when a run executes.

The factories below write every call they get into the store (`runtime.store`), so the
test reads back, through the API, what each call was told.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from tests.support.server import ServerProcess

MIRROR = Path("/work/.mirror/langchain-ai+langgraph/repo")
OFFICIAL = "libs/sdk-py/integration/graph/factory_graph.py"

FACTORIES = """
from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

if TYPE_CHECKING:  # as the SDK's examples import it
    from langgraph_sdk.runtime import ServerRuntime


class State(TypedDict, total=False):
    text: str


def _graph(label):
    def node(state: State) -> State:
        return {"text": (state.get("text") or "") + " " + label}

    b = StateGraph(State)
    b.add_node("node", node)
    b.add_edge(START, "node")
    b.add_edge("node", END)
    return b.compile()


async def _record(runtime, form, config=None):
    await runtime.store.aput(
        ("factory_calls", form),
        uuid.uuid4().hex,
        {
            "access_context": runtime.access_context,
            "executing": runtime.execution_runtime is not None,
            "context": runtime.execution_runtime.context if runtime.execution_runtime else None,
            "user": runtime.user.identity if runtime.user is not None else None,
            "has_config": config is not None,
        },
    )


@contextlib.asynccontextmanager
async def runtime_only(runtime: ServerRuntime):
    await _record(runtime, "runtime_only")
    yield _graph("runtime_only")


async def runtime_first(runtime: ServerRuntime, config):
    await _record(runtime, "runtime_first", config)
    return _graph("runtime_first")


async def by_name(config, runtime):
    await _record(runtime, "by_name", config)
    return _graph("by_name")


def config_only(config):
    return _graph("config_only:" + config.get("configurable", {}).get("tag", "-"))
"""

AUTH = """
from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> str:
    return (authorization or "Bearer anonymous").split(" ", 1)[1]
"""


def _official_source() -> str | None:
    try:
        done = subprocess.run(
            ["git", f"--git-dir={MIRROR}", "show", f"HEAD:{OFFICIAL}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


@pytest.fixture(scope="module")
def factory_server(tmp_path_factory):
    project = tmp_path_factory.mktemp("factories")
    (project / "factories.py").write_text(textwrap.dedent(FACTORIES))
    (project / "auth.py").write_text(AUTH)
    graphs = {
        name: f"./factories.py:{name}"
        for name in ("runtime_only", "runtime_first", "by_name", "config_only")
    }
    official = _official_source()
    if official is not None:  # the SDK's own integration file, byte for byte
        (project / "graph").mkdir()
        (project / "graph" / "factory_graph.py").write_text(official)
        graphs["factory_agent"] = "./graph/factory_graph.py:make_graph"
    config = {"dependencies": ["."], "graphs": graphs, "auth": {"path": "./auth.py:auth"}}
    (project / "langgraph.json").write_text(json.dumps(config))
    server = ServerProcess(project / "data", project / "langgraph.json").start()
    yield server, official is not None
    server.cleanup()
    shutil.rmtree(project, ignore_errors=True)


def _client(url: str, user: str = "alice"):
    return get_client(url=url, headers={"Authorization": f"Bearer {user}"})


async def test_the_official_integration_factory_runs_unchanged(factory_server):
    server, available = factory_server
    if not available:
        pytest.skip(f"the langgraph repository mirror ({MIRROR}) is not on this machine")
    client = _client(server.url)
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], "factory_agent", input={"text": "hi"})
    assert result == {
        "text": "hi echoed",
        "access_context": "threads.create_run",
        "is_for_execution": True,
    }
    # a state read and a schema read build the graph too: the factory raises TypeError
    # unless it gets a real ServerRuntime with a BaseStore
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["text"] == "hi echoed"
    history = await client.threads.get_history(thread["thread_id"])
    assert history and history[0]["values"]["text"] == "hi echoed"
    (system,) = await client.assistants.search(graph_id="factory_agent")
    schemas = await client.assistants.get_schemas(system["assistant_id"])
    assert "text" in schemas["state_schema"]["properties"]
    drawing = await client.assistants.get_graph("factory_agent")
    assert {node["id"] for node in drawing["nodes"]} >= {"echo"}


async def _calls(client, form: str) -> list[dict]:
    items = await client.store.search_items(("factory_calls", form), limit=100)
    return [item["value"] for item in items["items"]]


@pytest.mark.parametrize("form", ["runtime_only", "runtime_first", "by_name"])
async def test_each_factory_form_is_told_why_it_is_built(factory_server, form):
    server, _ = factory_server
    client = _client(server.url, user=f"user-{form}")
    assistant = await client.assistants.create(form, context={"tier": "gold"})
    thread = await client.threads.create()
    result = await client.runs.wait(
        thread["thread_id"], assistant["assistant_id"], input={"text": "x"}
    )
    assert result["text"] == f"x {form}"
    await client.threads.get_state(thread["thread_id"])
    await client.threads.update_state(thread["thread_id"], {"text": "edited"}, as_node="node")
    await client.assistants.get_schemas(assistant["assistant_id"])
    calls = await _calls(client, form)
    by_context = {c["access_context"]: c for c in calls}
    assert set(by_context) == {
        "threads.create_run",
        "threads.read",
        "threads.update",
        "assistants.read",
    }
    run = by_context["threads.create_run"]
    assert run["executing"] is True and run["context"] == {"tier": "gold"}
    for why in ("threads.read", "threads.update", "assistants.read"):
        assert by_context[why]["executing"] is False and by_context[why]["context"] is None
    assert {c["user"] for c in calls} == {f"user-{form}"}
    assert {c["has_config"] for c in calls} == {form != "runtime_only"}


async def test_a_config_only_factory_still_gets_the_run_config(factory_server):
    server, _ = factory_server
    client = _client(server.url)
    result = await client.runs.wait(
        None, "config_only", input={"text": "x"}, config={"configurable": {"tag": "t1"}}
    )
    assert result["text"] == "x config_only:t1"


def test_a_factory_with_parameters_the_server_cannot_fill_is_refused_at_start(tmp_path):
    from graphdock.server.config import load_config
    from graphdock.server.services.graphs import GraphLoadError, GraphRegistry

    (tmp_path / "bad.py").write_text("def make(config, other):\n    pass\n")
    (tmp_path / "langgraph.json").write_text(json.dumps({"graphs": {"bad": "./bad.py:make"}}))
    with pytest.raises(GraphLoadError, match="annotate one `runtime: ServerRuntime`"):
        GraphRegistry.load(load_config(tmp_path / "langgraph.json"))
