"""Assistants through the official SDK: system assistants, CRUD, versions, search, graphs, schemas."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from graphdock.server.services.graphs import system_assistant_id
from tests.support.server import TEST_APP

GRAPHS = list(json.loads(TEST_APP.read_text())["graphs"])
ASSISTANT_KEYS = [
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "metadata",
    "name",
    "created_at",
    "updated_at",
    "version",
    "description",
]
VERSION_KEYS = [
    "assistant_id",
    "version",
    "graph_id",
    "config",
    "context",
    "metadata",
    "created_at",
    "name",
    "description",
]
HI = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def api(graphdock_server):
    async with httpx.AsyncClient(base_url=graphdock_server, timeout=30) as client:
        yield client


# ---------------------------------------------------------------- system assistants


@pytest.mark.parametrize("graph_id", GRAPHS)
async def test_system_assistant_per_graph(sdk, graph_id):
    assistant = await sdk.assistants.get(system_assistant_id(graph_id))
    assert list(assistant) == ASSISTANT_KEYS
    assert assistant["graph_id"] == graph_id and assistant["name"] == graph_id
    assert assistant["metadata"] == {"created_by": "system"}
    assert assistant["config"] == {} and assistant["context"] == {} and assistant["version"] == 1
    spec = json.loads(TEST_APP.read_text())["graphs"][graph_id]
    assert assistant["description"] == (spec.get("description") if isinstance(spec, dict) else None)


async def test_system_assistant_ids_are_the_reference_uuid5(sdk):
    assert system_assistant_id("agent") == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    assert system_assistant_id("parent") == "0b226d00-e4ec-5b58-8e33-88f4bd4debe7"
    found = await sdk.assistants.search(metadata={"created_by": "system"}, graph_id="hitl")
    assert [a["assistant_id"] for a in found] == ["d2a02ed8-fb92-5e43-81ea-cb78d82caa2f"]


# ---------------------------------------------------------------- create


async def test_create_full_mirrors_configurable_into_context(sdk, unique):
    created = await sdk.assistants.create(
        "agent",
        config={"tags": ["t1"], "recursion_limit": 10, "configurable": {"x": 1}},
        metadata={"owner": unique},
        name="probe",
        description="desc",
    )
    assert list(created) == ASSISTANT_KEYS
    assert uuid.UUID(created["assistant_id"]).version == 4
    assert created["config"] == {"tags": ["t1"], "recursion_limit": 10, "configurable": {"x": 1}}
    assert created["context"] == {"x": 1}
    assert created["metadata"] == {"owner": unique}
    assert (created["name"], created["description"], created["version"]) == ("probe", "desc", 1)
    assert created["created_at"] == created["updated_at"]
    assert await sdk.assistants.get(created["assistant_id"]) == created


async def test_create_context_mirrors_into_configurable(sdk):
    created = await sdk.assistants.create("schemas", context={"model_name": "m1"})
    assert created["config"] == {"configurable": {"model_name": "m1"}}
    assert created["context"] == {"model_name": "m1"}


async def test_create_minimal_defaults(sdk):
    created = await sdk.assistants.create("agent")
    assert created["name"] == "Untitled" and created["description"] is None
    assert (created["config"], created["context"], created["metadata"]) == ({}, {}, {})


async def test_create_both_configurable_and_context_is_400(api):
    r = await api.post(
        "/assistants",
        json={"graph_id": "agent", "config": {"configurable": {"x": 1}}, "context": {"k": 1}},
    )
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Cannot specify both configurable and context.")


async def test_create_with_id_and_if_exists(sdk):
    assistant_id = str(uuid.uuid4())
    first = await sdk.assistants.create("agent", assistant_id=assistant_id, name="fixed")
    assert first["assistant_id"] == assistant_id
    with pytest.raises(ConflictError) as exc:
        await sdk.assistants.create("agent", assistant_id=assistant_id, name="again")
    assert exc.value.response.json() == {"detail": f"Assistant {assistant_id} already exists"}
    with pytest.raises(ConflictError):
        await sdk.assistants.create("agent", assistant_id=assistant_id, if_exists="raise")
    same = await sdk.assistants.create(
        "agent", assistant_id=assistant_id, if_exists="do_nothing", name="ignored"
    )
    assert same == first


async def test_create_unknown_graph_is_404_listing_graphs(api):
    r = await api.post("/assistants", json={"graph_id": "nope"})
    assert r.status_code == 404
    assert r.json()["detail"] == f"Graph 'nope' not found. Expected one of: {sorted(GRAPHS)}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "graph_id"),
        ({"graph_id": 5}, "graph_id"),
        ({"graph_id": "agent", "if_exists": "bogus"}, "if_exists"),
        ({"graph_id": "agent", "config": 3}, "config"),
        ({"graph_id": "agent", "metadata": []}, "metadata"),
        ({"graph_id": "agent", "name": None}, "name"),
        ({"graph_id": "agent", "context": None}, "context"),
    ],
)
async def test_create_invalid_body_is_422_naming_the_field(api, body, field):
    r = await api.post("/assistants", json=body)
    assert r.status_code == 422
    assert field in r.json()["detail"]


async def test_create_bad_assistant_id_and_bad_json(api):
    r = await api.post("/assistants", json={"graph_id": "agent", "assistant_id": "nope"})
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid assistant ID: must be a UUID"})
    r = await api.post(
        "/assistants", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid JSON in request body"})


async def test_create_ignores_unknown_fields(api):
    r = await api.post("/assistants", json={"graph_id": "agent", "bogus": 1})
    assert r.status_code == 200 and "bogus" not in r.json()


# ---------------------------------------------------------------- get / patch / versions / latest


async def test_get_unknown_and_graph_name(api):
    r = await api.get(f"/assistants/{uuid.uuid4()}")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    r = await api.get("/assistants/agent")  # the reference takes no graph name here
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid assistant ID: must be a UUID"})


async def test_patch_adds_versions_and_merges_metadata(sdk, unique):
    created = await sdk.assistants.create(
        "agent",
        config={"tags": ["t1"], "configurable": {"x": 1}},
        metadata={"owner": unique},
        name="probe",
        description="desc",
    )
    aid = created["assistant_id"]
    v2 = await sdk.assistants.update(aid, metadata={"v": 2}, config={"configurable": {"x": 2}})
    assert v2["version"] == 2
    assert v2["config"] == {"configurable": {"x": 2}}  # config replaces: tags are gone
    assert v2["context"] == {"x": 2}
    assert v2["metadata"] == {"owner": unique, "v": 2}
    assert v2["created_at"] == created["created_at"] and v2["updated_at"] > created["updated_at"]
    v3 = await sdk.assistants.update(aid, name="renamed")
    assert (v3["version"], v3["name"], v3["config"]) == (3, "renamed", {"configurable": {"x": 2}})
    assert v3["description"] == "desc"
    versions = await sdk.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert all(list(v) == VERSION_KEYS for v in versions)
    assert versions[2]["config"] == {"tags": ["t1"], "configurable": {"x": 1}}
    assert versions[0]["created_at"] == v3["updated_at"]
    filtered = await sdk.assistants.get_versions(aid, metadata={"v": 2}, limit=1)
    assert [v["version"] for v in filtered] == [3]
    assert [v["version"] for v in await sdk.assistants.get_versions(aid, limit=1, offset=1)] == [2]


async def test_patch_context_semantics(sdk):
    aid = (await sdk.assistants.create("schemas", context={"model_name": "a"}))["assistant_id"]
    # a config without configurable replaces the config but keeps the context
    p = await sdk.assistants.update(aid, config={"tags": ["z"]})
    assert (p["config"], p["context"]) == ({"tags": ["z"]}, {"model_name": "a"})
    # a context replaces the context and becomes the configurable
    p = await sdk.assistants.update(aid, context={"temperature": 2})
    assert (p["config"], p["context"]) == ({"configurable": {"temperature": 2}}, {"temperature": 2})
    # an empty context clears the context only
    p = await sdk.assistants.update(aid, context={})
    assert (p["config"], p["context"]) == ({"configurable": {"temperature": 2}}, {})


async def test_patch_errors(api):
    aid = (await api.post("/assistants", json={"graph_id": "agent"})).json()["assistant_id"]
    r = await api.patch(f"/assistants/{aid}", json={"graph_id": "nope"})
    assert r.status_code == 404 and r.json()["detail"].startswith("Graph 'nope' not found.")
    unknown = str(uuid.uuid4())
    r = await api.patch(f"/assistants/{unknown}", json={"name": "x"})
    assert (r.status_code, r.json()) == (404, {"detail": f"Assistant {unknown} not found"})
    for field in ("metadata", "config", "name", "description"):
        r = await api.patch(f"/assistants/{aid}", json={field: None})
        assert r.status_code == 422 and field in r.json()["detail"], field
    r = await api.patch(
        f"/assistants/{aid}", json={"config": {"configurable": {"a": 1}}, "context": {"b": 1}}
    )
    assert r.status_code == 400
    assert (await api.get(f"/assistants/{aid}")).json()["version"] == 1  # no failed patch versioned


async def test_patch_graph_id_switches_graph(sdk):
    aid = (await sdk.assistants.create("agent"))["assistant_id"]
    patched = await sdk.assistants.update(aid, graph_id="hitl")
    assert patched["graph_id"] == "hitl"
    assert (await sdk.assistants.get_schemas(aid))["graph_id"] == "hitl"


async def test_set_latest_restores_the_whole_version(sdk):
    aid = (await sdk.assistants.create("agent", config={"configurable": {"x": 1}}, name="one"))[
        "assistant_id"
    ]
    await sdk.assistants.update(
        aid, config={"configurable": {"x": 2}}, name="two", metadata={"m": 2}
    )
    latest = await sdk.assistants.set_latest(aid, 1)
    assert latest["version"] == 1 and latest["name"] == "one"
    # deliberate difference: the reference keeps the newest context here; we restore v1's
    assert (latest["config"], latest["context"]) == ({"configurable": {"x": 1}}, {"x": 1})
    assert latest["metadata"] == {}
    assert await sdk.assistants.get(aid) == latest
    assert [v["version"] for v in await sdk.assistants.get_versions(aid)] == [2, 1]
    again = await sdk.assistants.update(aid, name="three")
    assert again["version"] == 3  # a patch after set_latest still adds a new version


async def test_set_latest_errors(api):
    aid = (await api.post("/assistants", json={"graph_id": "agent"})).json()["assistant_id"]
    r = await api.post(f"/assistants/{aid}/latest", json={"version": 99})
    assert (r.status_code, r.json()["detail"]) == (404, f"Version 99 not found for assistant {aid}")
    r = await api.post(f"/assistants/{aid}/latest", json={})
    assert (r.status_code, r.json()["detail"]) == (
        404,
        f"Version None not found for assistant {aid}",
    )
    r = await api.post(f"/assistants/{aid}/latest", json={"version": "x"})
    assert r.status_code == 422 and "version" in r.json()["detail"]
    unknown = str(uuid.uuid4())
    r = await api.post(f"/assistants/{unknown}/latest", json={"version": 1})
    assert (r.status_code, r.json()["detail"]) == (404, f"Assistant {unknown} not found")
    r = await api.post(f"/assistants/{unknown}/versions", json={})
    assert (r.status_code, r.json()["detail"]) == (404, f"Assistant {unknown} not found")
    r = await api.post("/assistants/agent/versions", json={})
    assert r.status_code == 422


async def test_assistant_config_reaches_runs(sdk):
    aid = (await sdk.assistants.create("schemas", context={"model_name": "v1"}))["assistant_id"]
    assert (await sdk.runs.wait(None, aid, input={"question": "q"}))["answer"] == "q? (v1)"
    await sdk.assistants.update(aid, context={"model_name": "v2"})
    assert (await sdk.runs.wait(None, aid, input={"question": "q"}))["answer"] == "q? (v2)"
    await sdk.assistants.set_latest(aid, 1)
    assert (await sdk.runs.wait(None, aid, input={"question": "q"}))["answer"] == "q? (v1)"


# ---------------------------------------------------------------- delete


async def test_delete_and_delete_threads(sdk, api):
    keep = await sdk.assistants.create("agent")
    gone = await sdk.assistants.create("agent")
    t_keep = await sdk.threads.create()
    t_gone = await sdk.threads.create()
    await sdk.runs.wait(t_keep["thread_id"], keep["assistant_id"], input=HI)
    await sdk.runs.wait(t_gone["thread_id"], gone["assistant_id"], input=HI)
    await sdk.assistants.delete(keep["assistant_id"])
    await sdk.assistants.delete(gone["assistant_id"], delete_threads=True)
    assert (await sdk.threads.get(t_keep["thread_id"]))["thread_id"] == t_keep["thread_id"]
    with pytest.raises(NotFoundError):
        await sdk.threads.get(t_gone["thread_id"])
    for aid in (keep["assistant_id"], gone["assistant_id"]):
        r = await api.delete(f"/assistants/{aid}")
        assert (r.status_code, r.json()) == (404, {"detail": f"Assistant with ID {aid} not found"})
    r = await api.delete("/assistants/not-a-uuid")
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid assistant ID: must be a UUID"})


async def test_delete_threads_only_for_true(sdk, api):
    assistant = await sdk.assistants.create("agent")
    thread = await sdk.threads.create()
    await sdk.runs.wait(thread["thread_id"], assistant["assistant_id"], input=HI)
    r = await api.delete(f"/assistants/{assistant['assistant_id']}?delete_threads=1")
    assert r.status_code == 204
    assert (await sdk.threads.get(thread["thread_id"]))["status"] == "idle"  # kept


# ---------------------------------------------------------------- search / count


async def test_search_filters_sort_select_and_pagination(sdk, api, unique):
    names = ["b-asst", "a-asst", "c-other"]
    made = [await sdk.assistants.create("agent", metadata={"tag": unique}, name=n) for n in names]
    found = await sdk.assistants.search(metadata={"tag": unique})
    assert [a["assistant_id"] for a in found] == [a["assistant_id"] for a in reversed(made)]
    by_name = await sdk.assistants.search(
        metadata={"tag": unique}, sort_by="name", sort_order="asc"
    )
    assert [a["name"] for a in by_name] == ["a-asst", "b-asst", "c-other"]
    # sort_order alone is ignored, as in the reference: newest first
    alone = await api.post(
        "/assistants/search", json={"metadata": {"tag": unique}, "sort_order": "asc"}
    )
    assert [a["name"] for a in alone.json()] == ["c-other", "a-asst", "b-asst"]
    sub = await sdk.assistants.search(metadata={"tag": unique}, name="-asst", select=["name"])
    assert sub == [{"name": "a-asst"}, {"name": "b-asst"}]
    assert await sdk.assistants.search(metadata={"tag": unique}, graph_id="hitl") == []
    r = await api.post("/assistants/search", json={"metadata": {"tag": unique}, "limit": 2})
    assert r.headers["x-pagination-total"] == "3" and r.headers["x-pagination-next"] == "2"
    r = await api.post(
        "/assistants/search", json={"metadata": {"tag": unique}, "limit": 2, "offset": 2}
    )
    assert r.headers["x-pagination-total"] == "3" and "x-pagination-next" not in r.headers
    assert len(r.json()) == 1
    assert await sdk.assistants.count(metadata={"tag": unique}) == 3
    assert await sdk.assistants.count(metadata={"tag": unique}, name="other") == 1
    assert await sdk.assistants.count(metadata={"tag": unique}, graph_id="hitl") == 0


async def test_search_paginated_response_via_sdk(sdk, unique):
    for _ in range(3):
        await sdk.assistants.create("agent", metadata={"tag": unique})
    page = await sdk.assistants.search(metadata={"tag": unique}, limit=2, response_format="object")
    assert len(page["assistants"]) == 2 and page["next"] == "2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sort_by": "bogus"}, "sort_by"),
        ({"sort_order": "up"}, "sort_order"),
        ({"select": ["bogus"]}, "select"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"metadata": "x"}, "metadata"),
    ],
)
async def test_search_invalid_body(api, body, field):
    r = await api.post("/assistants/search", json=body)
    assert r.status_code == 422 and field in r.json()["detail"]


# ---------------------------------------------------------------- graph / schemas / subgraphs


async def test_graph_drawing_and_xray(sdk, api):
    pid = system_assistant_id("parent")
    flat = await sdk.assistants.get_graph(pid)
    assert [n["id"] for n in flat["nodes"]] == ["__start__", "p1", "child", "__end__"]
    assert flat["nodes"][1] == {"id": "p1", "type": "runnable", "data": {"name": "p1"}}
    assert flat["edges"][0] == {"source": "__start__", "target": "p1"}
    deep = await sdk.assistants.get_graph(pid, xray=True)
    assert {"child:c1", "child:c2"} <= {n["id"] for n in deep["nodes"]}
    assert "child" not in {n["id"] for n in deep["nodes"]}
    assert (await api.get(f"/assistants/{pid}/graph?xray=1")).json() == deep
    assert (await api.get("/assistants/parent/graph")).json() == flat  # graph name accepted here
    for bad in ("bogus", "0", "-1", "1.5", "TRUE"):
        r = await api.get(f"/assistants/{pid}/graph?xray={bad}")
        assert (r.status_code, r.json()) == (422, {"detail": "Invalid xray value"}), bad
    r = await api.get(f"/assistants/{uuid.uuid4()}/graph")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


async def test_graph_of_factory_graph(sdk):
    drawn = await sdk.assistants.get_graph(system_assistant_id("factory"))
    assert drawn["nodes"][0]["id"] == "__start__" and len(drawn["nodes"]) >= 3


async def test_schemas_of_plain_and_schema_graphs(sdk):
    agent = await sdk.assistants.get_schemas(system_assistant_id("agent"))
    # The reference answers null for both (pydantic refuses a `typing.TypedDict` on 3.11).
    described = {
        "properties": {
            "messages": {"items": {}, "title": "Messages", "type": "array"},
            "count": {"title": "Count", "type": "integer"},
        },
        "required": ["messages", "count"],
        "title": "State",
        "type": "object",
    }
    assert agent == {
        "graph_id": "agent",
        "input_schema": described,
        "output_schema": described,
        "state_schema": {
            "properties": {
                "messages": {"default": None, "items": {}, "title": "Messages", "type": "array"},
                "count": {"default": None, "title": "Count", "type": "integer"},
            },
            "title": "agent_state",
            "type": "object",
        },
        "config_schema": {},
        "context_schema": None,
    }
    schemas = await sdk.assistants.get_schemas(system_assistant_id("schemas"))
    assert schemas["input_schema"]["title"] == "InState"
    assert schemas["input_schema"]["required"] == ["question"]
    assert schemas["output_schema"]["title"] == "OutState"
    assert list(schemas["state_schema"]["properties"]) == ["question", "answer", "scratch"]
    assert schemas["context_schema"]["title"] == "Ctx"
    assert schemas["config_schema"] == schemas["context_schema"]


async def test_schemas_hoist_message_defs(sdk):
    chat = await sdk.assistants.get_schemas(system_assistant_id("chat"))
    state = chat["state_schema"]
    assert list(state) == ["$defs", "properties", "title", "type"]
    assert "AIMessage" in state["$defs"]
    assert "$defs" not in state["properties"]["messages"]


async def test_schemas_accept_no_graph_name(api):
    r = await api.get("/assistants/agent/schemas")
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid assistant ID: must be a UUID"})
    r = await api.get(f"/assistants/{uuid.uuid4()}/schemas")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


async def test_subgraphs(sdk, api):
    pid = system_assistant_id("parent")
    subs = await sdk.assistants.get_subgraphs(pid)
    assert list(subs) == ["child"]
    assert list(subs["child"]) == [
        "input_schema",
        "output_schema",
        "state_schema",
        "config_schema",
        "context_schema",
    ]
    assert subs["child"]["state_schema"]["title"] == "LangGraphState"
    assert subs["child"]["input_schema"]["title"] == "SubState"
    assert await sdk.assistants.get_subgraphs(pid, namespace="child") == subs
    assert await sdk.assistants.get_subgraphs(pid, namespace="nope") == {}
    assert await sdk.assistants.get_subgraphs(system_assistant_id("agent")) == {}
    nested = await sdk.assistants.get_subgraphs(system_assistant_id("parenthitl"), recurse=True)
    assert nested and all("state_schema" in v for v in nested.values())
    r = await api.get("/assistants/agent/subgraphs")
    assert r.status_code == 422
    r = await api.get(f"/assistants/{uuid.uuid4()}/subgraphs/child")
    assert r.status_code == 404


async def test_sdk_raises_typed_errors(sdk):
    with pytest.raises(NotFoundError):
        await sdk.assistants.get(str(uuid.uuid4()))
    with pytest.raises(UnprocessableEntityError):
        await sdk.assistants.get("not-a-uuid")
