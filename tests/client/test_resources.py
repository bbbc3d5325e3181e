"""CRUD of every resource through both clients, against both servers."""

from __future__ import annotations

import uuid

import pytest

from graphdock.client import BadRequestError, ConflictError, NotFoundError, UnprocessableEntityError

MISSING = "00000000-0000-4000-8000-000000000000"


async def test_assistants_crud_versions_and_search(api):
    c = api.client
    tag = uuid.uuid4().hex
    a = await api(
        c.assistants.create,
        "agent",
        {"configurable": {"x": 1}},
        metadata={"tag": tag},
        name="first",
        description="d",
    )
    aid = a["assistant_id"]
    assert (a["graph_id"], a["name"], a["metadata"], a["version"]) == (
        "agent",
        "first",
        {"tag": tag},
        1,
    )
    assert (await api(c.assistants.get, aid))["name"] == "first"
    same = await api(c.assistants.create, "agent", assistant_id=aid, if_exists="do_nothing")
    assert same["assistant_id"] == aid and same["name"] == "first"
    with pytest.raises(ConflictError):
        await api(c.assistants.create, "agent", assistant_id=aid)
    updated = await api(
        c.assistants.update,
        aid,
        name="second",
        metadata={"more": 1},
        config={"configurable": {"x": 2}},
    )
    assert updated["version"] == 2 and updated["metadata"] == {"tag": tag, "more": 1}
    versions = await api(c.assistants.get_versions, aid)
    assert [v["version"] for v in versions] == [2, 1]
    latest = await api(c.assistants.set_latest, aid, 1)
    assert latest["version"] == 1 and latest["name"] == "first"
    found = await api(c.assistants.search, metadata={"tag": tag})
    assert [x["assistant_id"] for x in found] == [aid]
    page = await api(c.assistants.search, metadata={"tag": tag}, response_format="object")
    assert page["next"] is None and page["assistants"][0]["assistant_id"] == aid
    assert await api(c.assistants.count, metadata={"tag": tag}) == 1
    assert await api(c.assistants.delete, aid) is None
    with pytest.raises(NotFoundError) as err:
        await api(c.assistants.get, aid)
    assert err.value.status_code == 404 and err.value.detail


async def test_assistant_graph_and_schemas(api):
    c = api.client
    (schemas_asst,) = await api(
        c.assistants.search, graph_id="schemas", metadata={"created_by": "system"}
    )
    schemas = await api(c.assistants.get_schemas, schemas_asst["assistant_id"])
    assert schemas["graph_id"] == "schemas"
    assert schemas["input_schema"]["required"] == ["question"]
    (parent,) = await api(c.assistants.search, graph_id="parent", metadata={"created_by": "system"})
    graph = await api(c.assistants.get_graph, parent["assistant_id"])
    assert {"p1", "child"} <= {n["id"] for n in graph["nodes"]}
    xray = await api(c.assistants.get_graph, parent["assistant_id"], xray=True)
    assert {"child:c1", "child:c2"} <= {n["id"] for n in xray["nodes"]}
    subgraphs = await api(c.assistants.get_subgraphs, parent["assistant_id"])
    assert list(subgraphs) == ["child"]


async def test_threads_crud_state_history_copy_prune(api):
    c = api.client
    tag = uuid.uuid4().hex
    t = await api(c.threads.create, metadata={"tag": tag})
    tid = t["thread_id"]
    assert t["metadata"] == {"tag": tag} and t["status"] == "idle"
    with pytest.raises(ConflictError):
        await api(c.threads.create, thread_id=tid)
    assert (await api(c.threads.create, thread_id=tid, if_exists="do_nothing"))["thread_id"] == tid
    updated = await api(c.threads.update, tid, metadata={"stage": "x"})
    assert updated["metadata"] == {"tag": tag, "stage": "x"}
    values = await api(
        c.runs.wait, tid, "agent", input={"messages": [{"role": "user", "content": "hi"}]}
    )
    assert values["count"] == 2
    state = await api(c.threads.get_state, tid)
    assert state["values"]["count"] == 2 and state["next"] == []
    history = await api(c.threads.get_history, tid, limit=10)
    assert [h["metadata"]["step"] for h in history] == [2, 1, 0, -1]
    parent_id = state["parent_checkpoint"]["checkpoint_id"]
    at_parent = await api(c.threads.get_state, tid, checkpoint_id=parent_id)
    assert at_parent["values"]["count"] == 1
    assert (await api(c.threads.get_state, tid, parent_id))["values"]["count"] == 1  # seed form
    before = await api(c.threads.get_history, tid, limit=1, before=parent_id)
    assert before[0]["metadata"]["step"] == 0
    result = await api(c.threads.update_state, tid, {"count": 10}, as_node="b")
    assert result["checkpoint"]["checkpoint_id"]
    assert (await api(c.threads.get_state, tid))["values"]["count"] == 10
    assert [x["thread_id"] for x in await api(c.threads.search, metadata={"tag": tag})] == [tid]
    assert await api(c.threads.count, metadata={"tag": tag}) == 1
    copy = await api(c.threads.copy, tid)
    assert copy["thread_id"] != tid
    assert (await api(c.threads.get_state, copy["thread_id"]))["values"]["count"] == 10
    assert await api(c.threads.prune, [copy["thread_id"]]) == {"pruned_count": 1}
    await api(c.threads.delete, tid)
    with pytest.raises(NotFoundError):
        await api(c.threads.get, tid)


async def test_update_state_on_graphless_thread_is_a_bad_request(api):
    t = await api(api.client.threads.create)
    with pytest.raises(BadRequestError) as err:
        await api(api.client.threads.update_state, t["thread_id"], {"count": 1})
    assert "graph" in err.value.detail.lower()


async def test_runs_lifecycle(api):
    c = api.client
    t = await api(c.threads.create)
    tid = t["thread_id"]
    created: list = []
    run = await api(
        c.runs.create,
        tid,
        "agent",
        input={"messages": []},
        metadata={"m": 1},
        on_run_created=created.append,
    )
    assert run["status"] == "pending" and run["metadata"]["m"] == 1
    assert created == [{"run_id": run["run_id"], "thread_id": tid}]
    values = await api(c.runs.join, tid, run["run_id"])
    assert values["count"] == 2
    got = await api(c.runs.get, tid, run["run_id"])
    assert got["status"] == "success"
    listed = await api(c.runs.list, tid, status="success")
    assert [r["run_id"] for r in listed] == [run["run_id"]]
    await api(c.runs.delete, tid, run["run_id"])
    with pytest.raises(NotFoundError):
        await api(c.runs.get, tid, run["run_id"])


async def test_cancel_and_cancel_many(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    run = await api(c.runs.create, tid, "slow", input={"sleep": 5})
    await api(c.runs.cancel, tid, run["run_id"], wait=True)
    assert (await api(c.runs.get, tid, run["run_id"]))["status"] == "interrupted"
    other = await api(c.runs.create, tid, "slow", input={"sleep": 5})
    assert await api(c.runs.cancel_many, thread_id=tid, run_ids=[other["run_id"]]) is None
    final = await api(c.runs.join, tid, other["run_id"])
    assert isinstance(final, dict)
    assert (await api(c.runs.get, tid, other["run_id"]))["status"] == "interrupted"


async def test_wait_failures_and_stateless_runs(api):
    c = api.client
    from graphdock.client import RunError

    with pytest.raises(RunError) as err:
        await api(c.runs.wait, None, "fail", input={})
    assert (err.value.error, err.value.message) == ("ValueError", "boom")
    body = await api(c.runs.wait, None, "fail", input={}, raise_error=False)
    assert body["__error__"]["message"] == "boom"
    assert (await api(c.runs.wait, None, "agent", input={"messages": []}))["count"] == 2
    batch = await api(
        c.runs.create_batch, [{"assistant_id": "agent", "input": {"messages": []}}] * 2
    )
    assert len(batch) == 2 and all(r["status"] == "pending" for r in batch)
    with pytest.raises(UnprocessableEntityError):
        await api(c.runs.wait, None, "no-such-graph", input={})


async def test_interrupt_and_resume(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    values = await api(c.runs.wait, tid, "hitl", input={"messages": []})
    assert values["__interrupt__"][0]["value"] == {"question": "approve?", "n": 0}
    assert (await api(c.threads.get, tid))["status"] == "interrupted"
    done = await api(c.runs.wait, tid, "hitl", command={"resume": "yes"})
    assert done["messages"][-1]["content"] == "done:yes"


async def test_crons(api):
    c = api.client
    tag = uuid.uuid4().hex
    (agent,) = await api(c.assistants.search, graph_id="agent", metadata={"created_by": "system"})
    aid = agent["assistant_id"]
    tid = (await api(c.threads.create))["thread_id"]
    stateless = await api(
        c.crons.create, aid, schedule="0 9 * * *", metadata={"tag": tag}, enabled=False
    )
    assert stateless["thread_id"] is None and stateless["schedule"] == "0 9 * * *"
    seed = await api(
        c.crons.create,
        thread_id=tid,
        assistant_id=aid,
        schedule="0 10 * * *",
        metadata={"tag": tag},
    )
    assert seed["thread_id"] == tid
    official = await api(
        c.crons.create_for_thread, tid, aid, schedule="0 11 * * *", metadata={"tag": tag}
    )
    assert official["thread_id"] == tid
    assert (await api(c.crons.get, seed["cron_id"]))["cron_id"] == seed["cron_id"]
    updated = await api(c.crons.update, seed["cron_id"], schedule="0 12 * * *")
    assert updated["schedule"] == "0 12 * * *"
    found = await api(c.crons.search, metadata={"tag": tag}, limit=10)
    assert {x["cron_id"] for x in found} == {
        stateless["cron_id"],
        seed["cron_id"],
        official["cron_id"],
    }
    assert await api(c.crons.count, thread_id=tid) == 2
    for cron in found:
        await api(c.crons.delete, cron["cron_id"])
    assert await api(c.crons.search, metadata={"tag": tag}) == []


async def test_store(api, request):
    c = api.client
    # The machine's PostgreSQL has no pgvector, so graphdock on Postgres cannot rank by query
    # there (tests/server/test_scaleout.py covers semantic search on a pgvector Postgres).
    ranks = "graphdock-postgres" not in request.node.callspec.id
    ns = ["test", uuid.uuid4().hex]
    await api(c.store.put_item, ns, "a", {"text": "apples are red", "n": 1})
    await api(c.store.put_item, [*ns, "sub"], "b", {"text": "bananas", "n": 2}, index=False)
    item = await api(c.store.get_item, ns, "a")
    assert (item["namespace"], item["key"], item["value"]["n"]) == (ns, "a", 1)
    assert await api(c.store.get_item, ns, "nope") is None
    found = await api(c.store.search_items, ns, filter={"n": 2})
    assert [i["key"] for i in found["items"]] == ["b"]
    ranked = await api(c.store.search_items, ns, query="apples")
    if ranks:
        assert ranked["items"][0]["key"] == "a"
        assert ranked["items"][0]["score"] is not None
    namespaces = await api(c.store.list_namespaces, prefix=ns)
    assert sorted(namespaces["namespaces"]) == [ns, [*ns, "sub"]]
    await api(c.store.delete_item, ns, "a")
    assert await api(c.store.get_item, ns, "a") is None
    # seed names
    await api(c.store.put, namespace=ns, key="s", value={"risk": "moderate"})
    assert (await api(c.store.get, namespace=ns, key="s"))["value"] == {"risk": "moderate"}
    items = await api(c.store.search, namespace=ns, filter={"risk": "moderate"})
    assert [i["key"] for i in items] == ["s"]
    await api(c.store.delete, namespace=ns, key="s")
    assert await api(c.store.search, namespace=ns, filter={"risk": "moderate"}) == []


async def test_http_client_raw_calls(api):
    c = api.client
    assert (await api(c.http.get, "/ok"))["ok"] is True
    tid = (await api(c.http.post, "/threads", json={}))["thread_id"]
    assert (await api(c.http.patch, f"/threads/{tid}", json={"metadata": {"k": 1}}))[
        "metadata"
    ] == {"k": 1}
    assert await api(c.http.delete, f"/threads/{tid}") is None
    with pytest.raises(NotFoundError):
        await api(c.http.get, f"/threads/{tid}")
    with pytest.raises(NotFoundError) as err:
        await api(c.threads.get, MISSING)
    assert err.value.detail == f"Thread with ID {MISSING} not found"
