"""Threads through the official SDK: CRUD, search, copy, prune, state, history, status."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError

from graphdock.server.services.graphs import system_assistant_id

HI = {"messages": [{"role": "user", "content": "hi"}]}
FRESH_KEYS = [
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "status",
    "config",
    "values",
]
RAN_KEYS = [*FRESH_KEYS, "error", "interrupts"]
STATE_KEYS = [
    "values",
    "next",
    "tasks",
    "metadata",
    "created_at",
    "checkpoint",
    "parent_checkpoint",
    "interrupts",
    "checkpoint_id",
    "parent_checkpoint_id",
]
TASK_KEYS = ["id", "name", "path", "error", "interrupts", "checkpoint", "state", "result"]
NO_GRAPH = "has no assigned graph ID"


@pytest.fixture
async def api(graphdock_server):
    async with httpx.AsyncClient(base_url=graphdock_server, timeout=30) as client:
        yield client


async def ran_agent(sdk, **metadata) -> str:
    """A thread on which the agent graph ran once: 4 checkpoints, values {messages, count: 2}."""
    thread = await sdk.threads.create(metadata=metadata or None)
    await sdk.runs.wait(thread["thread_id"], "agent", input=HI)
    return thread["thread_id"]


async def interrupted_hitl(sdk) -> str:
    thread = await sdk.threads.create()
    await sdk.runs.wait(thread["thread_id"], "hitl", input={"messages": []})
    return thread["thread_id"]


async def wait_for(sdk, thread_id, status, timeout=10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        thread = await sdk.threads.get(thread_id)
        if thread["status"] == status:
            return thread
        await asyncio.sleep(0.02)
    raise AssertionError(f"thread {thread_id} stayed {thread['status']}, wanted {status}")


# ---------------------------------------------------------------- create / get


async def test_create_fresh_thread_shape(sdk):
    thread = await sdk.threads.create()
    assert list(thread) == FRESH_KEYS
    assert uuid.UUID(thread["thread_id"]).version == 7
    assert (thread["metadata"], thread["status"], thread["config"], thread["values"]) == (
        {},
        "idle",
        {},
        None,
    )
    assert thread["created_at"] == thread["updated_at"] == thread["state_updated_at"]
    assert await sdk.threads.get(thread["thread_id"]) == thread


async def test_create_with_id_and_if_exists(sdk, unique):
    thread_id = str(uuid.uuid4())
    first = await sdk.threads.create(thread_id=thread_id, metadata={"tag": unique})
    assert first["thread_id"] == thread_id and first["metadata"] == {"tag": unique}
    with pytest.raises(ConflictError) as exc:
        await sdk.threads.create(thread_id=thread_id)
    assert exc.value.response.json() == {"detail": f"Thread with ID {thread_id} already exists"}
    same = await sdk.threads.create(thread_id=thread_id, if_exists="do_nothing", metadata={"x": 1})
    assert same == first


async def test_create_with_ttl(sdk, api):
    thread = await sdk.threads.create(ttl=5)
    assert list(thread) == FRESH_KEYS  # accepted, not echoed (as in the reference)
    r = await api.post("/threads", json={"ttl": {"strategy": "keep_latest", "ttl": 5}})
    assert r.status_code == 200
    r = await api.post("/threads", json={"ttl": 5})
    assert r.status_code == 422 and "ttl" in r.json()["detail"]


async def test_create_with_supersteps(sdk):
    thread = await sdk.threads.create(
        graph_id="agent",
        supersteps=[
            {
                "updates": [
                    {
                        "values": {"messages": [{"role": "user", "content": "hi"}], "count": 5},
                        "as_node": "a",
                    }
                ]
            },
            {"updates": [{"values": {"count": 6}, "as_node": "b"}]},
        ],
    )
    assert list(thread) == RAN_KEYS
    assert thread["values"] == {"messages": [{"role": "user", "content": "hi"}], "count": 6}
    assert (thread["status"], thread["interrupts"], thread["error"]) == ("idle", {}, None)
    state = await sdk.threads.get_state(thread["thread_id"])
    assert state["values"]["count"] == 6 and state["next"] == []
    assert state["metadata"]["source"] == "update"


async def test_create_supersteps_that_stop_midway_are_interrupted(sdk):
    thread = await sdk.threads.create(
        graph_id="agent", supersteps=[{"updates": [{"values": {"count": 1}, "as_node": "a"}]}]
    )
    assert thread["status"] == "interrupted"
    assert (await sdk.threads.get_state(thread["thread_id"]))["next"] == ["b"]


async def test_create_supersteps_with_a_resume_command(sdk):
    thread = await sdk.threads.create(
        graph_id="hitl",
        supersteps=[
            {"updates": [{"values": {"messages": []}, "as_node": "__start__"}]},
            {"updates": [{"values": None, "command": {"resume": "yes"}, "as_node": "ask"}]},
        ],
    )
    assert (await sdk.threads.get_state(thread["thread_id"]))["next"] == ["finish"]


async def test_create_supersteps_problems(api):
    ss = [{"updates": [{"values": {"count": 5}, "as_node": "a"}]}]
    r = await api.post("/threads", json={"supersteps": ss})
    assert r.status_code == 201  # the reference's odd but documented answer
    detail = r.json()["detail"]
    assert (
        "was created, but there were problems updating the state" in detail and NO_GRAPH in detail
    )
    thread_id = detail.split()[1]
    assert (await api.get(f"/threads/{thread_id}")).status_code == 200
    r = await api.post("/threads", json={"metadata": {"graph_id": "nope"}, "supersteps": ss})
    assert r.status_code == 201 and "Graph 'nope' not found" in r.json()["detail"]
    bad_node = [{"updates": [{"values": {"count": 5}, "as_node": "zzz"}]}]
    r = await api.post("/threads", json={"metadata": {"graph_id": "agent"}, "supersteps": bad_node})
    assert (r.status_code, r.json()) == (400, {"detail": "Node zzz does not exist"})
    missing = [{"updates": [{"values": {"count": 5}}]}]
    r = await api.post("/threads", json={"metadata": {"graph_id": "agent"}, "supersteps": missing})
    assert r.status_code == 422 and "as_node" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"thread_id": "nope"}, "thread ID"),
        ({"metadata": "x"}, "metadata"),
        ({"metadata": None}, "metadata"),
        ({"if_exists": "bogus"}, "if_exists"),
        ({"supersteps": "x"}, "supersteps"),
    ],
)
async def test_create_invalid_body(api, body, field):
    r = await api.post("/threads", json=body)
    assert r.status_code == 422 and field in r.json()["detail"]


async def test_get_unknown_and_invalid(api):
    unknown = str(uuid.uuid4())
    r = await api.get(f"/threads/{unknown}")
    assert (r.status_code, r.json()) == (404, {"detail": f"Thread with ID {unknown} not found"})
    r = await api.get("/threads/not-a-uuid")
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid thread ID: must be a UUID"})


# ---------------------------------------------------------------- patch / delete


async def test_patch_merges_metadata(sdk, api):
    thread_id = await ran_agent(sdk)
    before = await sdk.threads.get(thread_id)
    patched = await sdk.threads.update(thread_id, metadata={"k": "v"})
    assert list(patched) == RAN_KEYS
    assert patched["metadata"] == {**before["metadata"], "k": "v"}
    assert patched["updated_at"] > before["updated_at"]
    assert patched["state_updated_at"] == before["state_updated_at"]
    again = await sdk.threads.update(thread_id, metadata={"k2": "v2"}, ttl=10)
    assert again["metadata"] == {**before["metadata"], "k": "v", "k2": "v2"}
    r = await api.patch(f"/threads/{thread_id}", json={"bogus": 1})
    assert r.status_code == 200 and r.json()["metadata"] == again["metadata"]


async def test_patch_return_minimal(sdk, api):
    thread = await sdk.threads.create()
    r = await api.patch(
        f"/threads/{thread['thread_id']}",
        json={"metadata": {"m": 1}},
        headers={"Prefer": "return=minimal"},
    )
    assert (r.status_code, r.content) == (204, b"")
    assert (await sdk.threads.get(thread["thread_id"]))["metadata"] == {"m": 1}
    assert (
        await sdk.threads.update(thread["thread_id"], metadata={"n": 2}, return_minimal=True)
        is None
    )


async def test_patch_errors(api):
    r = await api.patch(f"/threads/{uuid.uuid4()}", json={"metadata": {}})
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    thread_id = (await api.post("/threads", json={})).json()["thread_id"]
    r = await api.patch(f"/threads/{thread_id}", json={"metadata": None})
    assert r.status_code == 422 and "metadata" in r.json()["detail"]
    r = await api.patch("/threads/not-a-uuid", json={})
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid thread ID: must be a UUID"})


async def test_delete(sdk, api):
    thread_id = await ran_agent(sdk)
    await sdk.threads.delete(thread_id)
    with pytest.raises(NotFoundError):
        await sdk.threads.get(thread_id)
    r = await api.delete(f"/threads/{thread_id}")
    assert (r.status_code, r.json()) == (404, {"detail": f"Thread with ID {thread_id} not found"})
    r = await api.post(f"/threads/{thread_id}/history", json={})
    assert r.status_code == 404  # the checkpoints went with it


async def test_delete_busy_thread_stops_its_run(sdk):
    thread = await sdk.threads.create()
    await sdk.runs.create(thread["thread_id"], "slow", input={"sleep": 5})
    assert (await sdk.threads.get(thread["thread_id"]))["status"] == "busy"
    await sdk.threads.delete(thread["thread_id"])
    with pytest.raises(NotFoundError):
        await sdk.threads.get(thread["thread_id"])


# ---------------------------------------------------------------- status, values, interrupts


async def test_status_busy_then_idle_with_values(sdk):
    thread = await sdk.threads.create()
    await sdk.runs.create(thread["thread_id"], "slow", input={"sleep": 0.3})
    busy = await sdk.threads.get(thread["thread_id"])
    assert busy["status"] == "busy"
    done = await wait_for(sdk, thread["thread_id"], "idle")
    assert done["values"]["count"] == 1 and done["interrupts"] == {} and done["error"] is None
    assert done["metadata"] == {"graph_id": "slow", "assistant_id": system_assistant_id("slow")}
    assert done["state_updated_at"] > busy["state_updated_at"]


async def test_status_interrupted_with_interrupts(sdk):
    thread_id = await interrupted_hitl(sdk)
    thread = await sdk.threads.get(thread_id)
    assert thread["status"] == "interrupted"
    [(task_id, interrupts)] = thread["interrupts"].items()
    assert interrupts[0]["value"] == {"question": "approve?", "n": 0}
    assert list(interrupts[0]) == ["id", "value"]
    state = await sdk.threads.get_state(thread_id)
    assert state["tasks"][0]["id"] == task_id and state["next"] == ["ask"]
    assert state["interrupts"] == interrupts
    await sdk.runs.wait(thread_id, "hitl", command={"resume": "ok"})
    resumed = await sdk.threads.get(thread_id)
    assert (resumed["status"], resumed["interrupts"]) == ("idle", {})
    assert resumed["values"]["answer"] == "ok"


async def test_status_error(sdk):
    thread = await sdk.threads.create()
    await sdk.runs.wait(thread["thread_id"], "fail", input={"messages": []}, raise_error=False)
    failed = await sdk.threads.get(thread["thread_id"])
    assert failed["status"] == "error"
    assert failed["error"] == {"error": "ValueError", "message": "boom"}
    assert failed["values"] == {"messages": [{"role": "assistant", "content": "ok"}]}


# ---------------------------------------------------------------- search / count


async def test_search_and_count(sdk, api, unique):
    idle = await ran_agent(sdk, tag=unique)
    hitl = await interrupted_hitl(sdk)
    await sdk.threads.update(hitl, metadata={"tag": unique})
    empty = (await sdk.threads.create(metadata={"tag": unique, "kind": "empty"}))["thread_id"]
    found = await sdk.threads.search(metadata={"tag": unique})
    assert [t["thread_id"] for t in found] == [empty, hitl, idle]  # last updated first
    assert list(found[0]) == FRESH_KEYS and list(found[1]) == RAN_KEYS
    assert [
        t["thread_id"]
        for t in await sdk.threads.search(metadata={"tag": unique}, status="interrupted")
    ] == [hitl]
    assert [
        t["thread_id"]
        for t in await sdk.threads.search(metadata={"tag": unique}, values={"count": 2})
    ] == [idle]
    assert [t["thread_id"] for t in await sdk.threads.search(ids=[idle, empty])] == [empty, idle]
    asc = await sdk.threads.search(metadata={"tag": unique}, sort_by="created_at", sort_order="asc")
    assert [t["thread_id"] for t in asc] == [idle, hitl, empty]
    by_status = await sdk.threads.search(
        metadata={"tag": unique}, sort_by="status", sort_order="asc", select=["status"]
    )
    assert by_status == [{"status": "idle"}, {"status": "idle"}, {"status": "interrupted"}]
    r = await api.post(
        "/threads/search", json={"metadata": {"tag": unique}, "limit": 2, "select": ["thread_id"]}
    )
    assert r.json() == [{"thread_id": empty}, {"thread_id": hitl}]
    assert r.headers["x-pagination-total"] == "3" and r.headers["x-pagination-next"] == "2"
    r = await api.post(
        "/threads/search", json={"metadata": {"tag": unique}, "limit": 2, "offset": 2}
    )
    assert r.headers["x-pagination-total"] == "3" and "x-pagination-next" not in r.headers
    assert await sdk.threads.count(metadata={"tag": unique}) == 3
    assert await sdk.threads.count(metadata={"tag": unique}, status="idle") == 2
    assert await sdk.threads.count(metadata={"tag": unique}, values={"count": 2}) == 1


async def test_search_default_order_is_last_updated_first(sdk, api, unique):
    first, second = [
        (await sdk.threads.create(metadata={"tag": unique}))["thread_id"] for _ in range(2)
    ]
    assert [t["thread_id"] for t in await sdk.threads.search(metadata={"tag": unique})] == [
        second,
        first,
    ]
    await sdk.threads.update(first, metadata={"touched": True})
    assert [t["thread_id"] for t in await sdk.threads.search(metadata={"tag": unique})] == [
        first,
        second,
    ]
    # sort_order alone keeps that default, as in the reference; with sort_by it applies
    r = await api.post("/threads/search", json={"metadata": {"tag": unique}, "sort_order": "asc"})
    assert [t["thread_id"] for t in r.json()] == [first, second]
    by_created = await sdk.threads.search(metadata={"tag": unique}, sort_by="created_at")
    assert [t["thread_id"] for t in by_created] == [second, first]


async def test_search_extract(sdk, api, unique):
    thread = await sdk.threads.create(
        graph_id="agent",
        metadata={"tag": unique},
        supersteps=[
            {
                "updates": [
                    {
                        "values": {
                            "messages": [
                                {"role": "user", "content": "hi"},
                                {"role": "ai", "content": "yo"},
                            ],
                            "count": 5,
                        },
                        "as_node": "b",
                    }
                ]
            }
        ],
    )
    extract = {
        "c": "values.count",
        "last": "values.messages[-1].content",
        "first": "values.messages[0]",
        "bare": "values.messages.0",
        "g": "metadata.graph_id",
        "miss": "values.nope.deeper",
    }
    found = await sdk.threads.search(
        metadata={"tag": unique}, extract=extract, select=["thread_id"]
    )
    assert found == [
        {
            "thread_id": thread["thread_id"],
            "extracted": {
                "c": 5,
                "last": "yo",
                "first": {"role": "user", "content": "hi"},
                "bare": None,
                "g": "agent",
                "miss": None,
            },
        }
    ]
    r = await api.post("/threads/search", json={"extract": {"s": "status"}})
    assert (r.status_code, r.json()["detail"]) == (
        422,
        "Extract path 'status' must start with one of: config, interrupts, metadata, values",
    )
    r = await api.post("/threads/search", json={"extract": {"s": ""}})
    assert (r.status_code, r.json()["detail"]) == (
        422,
        "Extract path for 's' must be a non-empty string",
    )
    r = await api.post("/threads/search", json={"extract": {str(i): "values" for i in range(11)}})
    assert r.status_code == 422 and "extract" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"ids": ["nope"]}, 400, "Invalid thread ID nope"),
        ({"status": "bogus"}, 422, "status"),
        ({"sort_by": "bogus"}, 422, "sort_by"),
        ({"select": ["bogus"]}, 422, "select"),
        ({"select": ["error"]}, 422, "select"),
        ({"limit": 0}, 422, "limit"),
        ({"values": 3}, 422, "values"),
    ],
)
async def test_search_invalid(api, body, status, detail):
    r = await api.post("/threads/search", json=body)
    assert r.status_code == status and detail in r.json()["detail"]


# ---------------------------------------------------------------- copy / prune


async def test_copy_keeps_every_checkpoint(sdk, unique):
    source = await ran_agent(sdk, tag=unique)
    copy = await sdk.threads.copy(source)
    assert uuid.UUID(copy["thread_id"]).version == 4 and copy["thread_id"] != source
    assert copy["metadata"]["tag"] == unique and copy["config"] == {} and copy["status"] == "idle"
    assert copy["values"] == (await sdk.threads.get(source))["values"]
    src_history = await sdk.threads.get_history(source, limit=100)
    copy_history = await sdk.threads.get_history(copy["thread_id"], limit=100)
    assert len(copy_history) == len(src_history) == 4
    assert [h["values"] for h in copy_history] == [h["values"] for h in src_history]
    assert [h["checkpoint"]["thread_id"] for h in copy_history] == [copy["thread_id"]] * 4
    # the copy lives on by itself
    await sdk.runs.wait(copy["thread_id"], "agent", input=HI)
    assert (await sdk.threads.get_state(copy["thread_id"]))["values"]["count"] == 4
    assert len(await sdk.threads.get_history(source, limit=100)) == 4
    assert (await sdk.threads.get_state(source))["values"]["count"] == 2


async def test_copy_of_interrupted_thread_resumes(sdk):
    source = await interrupted_hitl(sdk)
    copy = await sdk.threads.copy(source)
    assert copy["status"] == "interrupted" and copy["interrupts"]
    result = await sdk.runs.wait(copy["thread_id"], "hitl", command={"resume": "fork"})
    assert result["answer"] == "fork"
    assert (await sdk.threads.get(source))["status"] == "interrupted"


async def test_copy_errors(api):
    missing = uuid.uuid4()
    r = await api.post(f"/threads/{missing}/copy")  # the reference answers 409 "Conflict"
    assert (r.status_code, r.json()) == (404, {"detail": f"Thread with ID {missing} not found"})
    empty = (await api.post("/threads", json={"metadata": {"m": 1}})).json()["thread_id"]
    r = await api.post(f"/threads/{empty}/copy", json={})
    assert r.status_code == 200 and r.json()["metadata"] == {"m": 1}


async def test_prune(sdk, api):
    doomed = await ran_agent(sdk)
    trimmed = await ran_agent(sdk)
    assert await sdk.threads.prune([doomed, str(uuid.uuid4())]) == {"pruned_count": 1}
    with pytest.raises(NotFoundError):
        await sdk.threads.get(doomed)
    # keep_latest (not in the reference's in-memory runtime) keeps the thread and its state
    assert await sdk.threads.prune([trimmed], strategy="keep_latest") == {"pruned_count": 1}
    history = await sdk.threads.get_history(trimmed, limit=100)
    assert len(history) == 1 and history[0]["values"]["count"] == 2
    r = await api.post("/threads/prune", json={"thread_ids": ["nope"]})
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid thread ID: must be a UUID"})
    r = await api.post("/threads/prune", json={})
    assert r.status_code == 422 and "thread_ids" in r.json()["detail"]


# ---------------------------------------------------------------- state


async def test_state_latest(sdk):
    thread_id = await ran_agent(sdk)
    state = await sdk.threads.get_state(thread_id)
    assert list(state) == STATE_KEYS
    assert state["values"]["count"] == 2 and state["next"] == [] and state["tasks"] == []
    assert state["metadata"]["step"] == 2 and state["metadata"]["source"] == "loop"
    assert list(state["checkpoint"]) == ["checkpoint_id", "thread_id", "checkpoint_ns"]
    assert (
        state["checkpoint"]["thread_id"] == thread_id and state["checkpoint"]["checkpoint_ns"] == ""
    )
    assert state["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
    assert state["parent_checkpoint_id"] == state["parent_checkpoint"]["checkpoint_id"]


async def test_state_of_thread_without_checkpoints(sdk, api):
    thread = await sdk.threads.create()
    assert await sdk.threads.get_state(thread["thread_id"]) == {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": None,
        "created_at": None,
        "checkpoint": None,
        "parent_checkpoint": None,
        "interrupts": [],
        "checkpoint_id": None,
        "parent_checkpoint_id": None,
    }
    unknown = str(uuid.uuid4())
    r = await api.get(f"/threads/{unknown}/state")
    assert (r.status_code, r.json()) == (404, {"detail": f"Thread with ID {unknown} not found"})


async def test_state_at_checkpoint(sdk, api):
    thread_id = await ran_agent(sdk)
    history = await sdk.threads.get_history(thread_id, limit=10)
    middle = history[1]
    at = await sdk.threads.get_state(thread_id, checkpoint_id=middle["checkpoint_id"])
    assert at["values"] == middle["values"] and at["next"] == ["b"]
    assert at["checkpoint"] == {"checkpoint_id": middle["checkpoint_id"], "thread_id": thread_id}
    assert at["parent_checkpoint"] == middle["parent_checkpoint"]  # the stored form, with ns
    task = at["tasks"][0]
    assert list(task) == TASK_KEYS and task["name"] == "b"
    assert task["result"] == {"messages": [{"role": "assistant", "content": "b"}], "count": 2}
    posted = await sdk.threads.get_state(
        thread_id, checkpoint={"checkpoint_id": middle["checkpoint_id"]}
    )
    assert posted == at
    with_ns = await api.post(
        f"/threads/{thread_id}/state/checkpoint",
        json={"checkpoint": {"checkpoint_id": middle["checkpoint_id"], "checkpoint_ns": ""}},
    )
    assert with_ns.json()["checkpoint"] == {**at["checkpoint"], "checkpoint_ns": ""}
    latest = await api.post(f"/threads/{thread_id}/state/checkpoint", json={"checkpoint": {}})
    assert latest.json() == await sdk.threads.get_state(thread_id)


async def test_state_at_unknown_checkpoint_is_empty(api):
    thread_id = (await api.post("/threads", json={"metadata": {"graph_id": "agent"}})).json()[
        "thread_id"
    ]
    for cp in (str(uuid.uuid4()), "not-a-cp"):
        r = await api.get(f"/threads/{thread_id}/state/{cp}")
        assert r.status_code == 200
        body = r.json()
        assert body["values"] == {} and body["checkpoint_id"] == cp
        assert body["checkpoint"] == {"checkpoint_id": cp, "thread_id": thread_id}
    r = await api.post(f"/threads/{thread_id}/state/checkpoint", json={})
    assert r.status_code == 422 and "checkpoint" in r.json()["detail"]


async def test_state_with_subgraphs(sdk):
    thread = await sdk.threads.create()
    await sdk.runs.wait(thread["thread_id"], "parenthitl", input={"messages": []})
    flat = await sdk.threads.get_state(thread["thread_id"])
    task = flat["tasks"][0]
    assert task["state"] is None
    assert task["checkpoint"]["checkpoint_ns"].startswith("sub:")
    deep = await sdk.threads.get_state(thread["thread_id"], subgraphs=True)
    nested = deep["tasks"][0]["state"]
    assert list(nested) == STATE_KEYS and nested["next"] == ["ask"]
    assert nested["checkpoint"]["checkpoint_ns"] == task["checkpoint"]["checkpoint_ns"]
    assert "checkpoint_map" in nested["checkpoint"]
    assert nested["tasks"][0]["interrupts"][0]["value"] == {"question": "approve?", "n": 0}


# ---------------------------------------------------------------- update_state


async def test_update_state(sdk):
    thread_id = await ran_agent(sdk)
    before = await sdk.threads.get(thread_id)
    result = await sdk.threads.update_state(thread_id, {"count": 100})
    assert list(result) == ["checkpoint", "configurable", "checkpoint_id"]
    assert result["checkpoint"] == result["configurable"]
    assert result["checkpoint"] == {
        "thread_id": thread_id,
        "checkpoint_ns": "",
        "checkpoint_id": result["checkpoint_id"],
    }
    state = await sdk.threads.get_state(thread_id)
    assert state["checkpoint_id"] == result["checkpoint_id"] and state["values"]["count"] == 100
    assert state["metadata"]["source"] == "update" and state["metadata"]["graph_id"] == "agent"
    after = await sdk.threads.get(thread_id)
    assert (
        after["values"]["count"] == 100 and after["state_updated_at"] > before["state_updated_at"]
    )
    await sdk.threads.update_state(
        thread_id, {"messages": [{"role": "user", "content": "as a"}]}, as_node="a"
    )
    state = await sdk.threads.get_state(thread_id)
    assert state["next"] == ["b"] and state["values"]["messages"][-1]["content"] == "as a"
    assert (await sdk.threads.get(thread_id))["status"] == "interrupted"  # next is not empty


async def test_update_state_forks_from_a_checkpoint(sdk):
    thread_id = await ran_agent(sdk)
    history = await sdk.threads.get_history(thread_id, limit=10)
    fork_from = history[2]  # after the input, before node a
    result = await sdk.threads.update_state(
        thread_id, {"count": 7}, checkpoint={"checkpoint_id": fork_from["checkpoint_id"]}
    )
    state = await sdk.threads.get_state(thread_id)
    assert state["checkpoint_id"] == result["checkpoint_id"]
    assert state["parent_checkpoint_id"] == fork_from["checkpoint_id"]
    assert state["values"]["count"] == 7 and state["next"] == ["a"]
    legacy = await sdk.threads.update_state(
        thread_id, {"count": 8}, checkpoint_id=fork_from["checkpoint_id"]
    )
    assert (await sdk.threads.get_state(thread_id))["checkpoint_id"] == legacy["checkpoint_id"]


async def test_update_state_on_interrupt(sdk):
    skip = await interrupted_hitl(sdk)
    await sdk.threads.update_state(skip, {"answer": "manual"}, as_node="ask")
    state = await sdk.threads.get_state(skip)
    assert state["next"] == ["finish"] and state["interrupts"] == []
    assert (await sdk.threads.get(skip))["status"] == "interrupted"
    result = await sdk.runs.wait(skip, "hitl", input=None)
    assert result["messages"][-1]["content"] == "done:manual"
    null = await interrupted_hitl(sdk)
    await sdk.threads.update_state(null, None, as_node="ask")  # values may be null
    assert (await sdk.threads.get_state(null))["next"] == ["finish"]


async def test_update_state_errors(sdk, api):
    thread_id = await ran_agent(sdk)
    r = await api.post(
        f"/threads/{thread_id}/state", json={"values": {"count": 1}, "as_node": "nope"}
    )
    assert (r.status_code, r.json()) == (400, {"detail": "Node nope does not exist"})
    r = await api.post(f"/threads/{thread_id}/state", json={"values": [{"count": 7}]})
    assert r.status_code == 400 and r.json()["detail"].startswith(
        "Expected dict, got"
    )  # a list: the graph decides
    r = await api.post(f"/threads/{thread_id}/state", json={"values": "x"})
    assert r.status_code == 422 and "values" in r.json()["detail"]
    fresh = (await api.post("/threads", json={})).json()["thread_id"]
    r = await api.post(f"/threads/{fresh}/state", json={"values": {"count": 1}})
    assert r.status_code == 400 and NO_GRAPH in r.json()["detail"]
    unknown = str(uuid.uuid4())
    r = await api.post(f"/threads/{unknown}/state", json={"values": {"count": 1}})
    assert (r.status_code, r.json()) == (404, {"detail": f"Thread with ID {unknown} not found"})


# ---------------------------------------------------------------- history


async def test_history_post(sdk, api):
    thread_id = await ran_agent(sdk)
    history = await sdk.threads.get_history(thread_id, limit=10)
    assert [h["metadata"]["step"] for h in history] == [2, 1, 0, -1]
    assert [h["metadata"]["source"] for h in history] == ["loop", "loop", "loop", "input"]
    assert [h["next"] for h in history] == [[], ["b"], ["a"], ["__start__"]]
    assert all(list(h) == STATE_KEYS for h in history)
    assert history[0] == await sdk.threads.get_state(thread_id)
    r = await api.post(f"/threads/{thread_id}/history", json={})
    assert len(r.json()) == 1  # the reference's default limit is 1
    assert [
        h["metadata"]["step"]
        for h in await sdk.threads.get_history(thread_id, metadata={"step": 1})
    ] == [1]
    newest = history[0]["checkpoint_id"]
    for before in (newest, {"checkpoint_id": newest}, {"configurable": {"checkpoint_id": newest}}):
        older = await sdk.threads.get_history(thread_id, limit=10, before=before)
        assert [h["metadata"]["step"] for h in older] == [1, 0, -1], before
    r = await api.post(f"/threads/{thread_id}/history", json={"limit": 0})
    assert r.status_code == 422 and "limit" in r.json()["detail"]


async def test_history_get(sdk, api):
    thread_id = await ran_agent(sdk)
    r = await api.get(f"/threads/{thread_id}/history")
    assert r.status_code == 200 and len(r.json()) == 1
    r = await api.get(f"/threads/{thread_id}/history", params={"limit": 3})
    steps = [h["metadata"]["step"] for h in r.json()]
    assert steps == [2, 1, 0]
    r = await api.get(
        f"/threads/{thread_id}/history",
        params={"limit": 10, "before": r.json()[0]["checkpoint_id"]},
    )
    assert [h["metadata"]["step"] for h in r.json()] == [1, 0, -1]
    r = await api.get(f"/threads/{thread_id}/history", params={"limit": "abc"})
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid limit abc"})


async def test_history_of_subgraph_and_empty_threads(sdk, api):
    thread = await sdk.threads.create()
    await sdk.runs.wait(thread["thread_id"], "parenthitl", input={"messages": []})
    ns = (await sdk.threads.get_state(thread["thread_id"]))["tasks"][0]["checkpoint"][
        "checkpoint_ns"
    ]
    inner = await sdk.threads.get_history(
        thread["thread_id"], limit=10, checkpoint={"checkpoint_ns": ns}
    )
    assert inner and all(h["checkpoint"]["checkpoint_ns"] == ns for h in inner)
    empty = (await sdk.threads.create())["thread_id"]
    assert await sdk.threads.get_history(empty) == []
    unknown = str(uuid.uuid4())
    r = await api.post(f"/threads/{unknown}/history", json={})
    assert (r.status_code, r.json()) == (404, {"detail": f"Thread with ID {unknown} not found"})
