"""A restart keeps every assistant, version, thread and checkpoint (one SQLite file)."""

from __future__ import annotations

import uuid

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError

from graphdock.server.services.graphs import system_assistant_id

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def snapshot(client, assistant_ids, thread_ids) -> dict:
    """Everything a restart must keep, as the API shows it."""
    out: dict = {"assistants": {}, "versions": {}, "threads": {}, "states": {}, "histories": {}}
    for aid in assistant_ids:
        out["assistants"][aid] = await client.assistants.get(aid)
        out["versions"][aid] = await client.assistants.get_versions(aid)
    for tid in thread_ids:
        out["threads"][tid] = await client.threads.get(tid)
        out["states"][tid] = await client.threads.get_state(tid)
        out["histories"][tid] = await client.threads.get_history(tid, limit=100)
    return out


@pytest.mark.parametrize("checkpoints", ["inline", "thread"])
async def test_restart_keeps_everything(server_process, checkpoints):
    """`checkpoints`: GRAPHDOCK_SQLITE_CHECKPOINTS, how the SQLite checkpointer is driven."""
    if checkpoints != "inline" and server_process.backend != "sqlite":
        pytest.skip("GRAPHDOCK_SQLITE_CHECKPOINTS is a setting of the SQLite backend")
    server = server_process(env={"GRAPHDOCK_SQLITE_CHECKPOINTS": checkpoints})
    client = get_client(url=server.url, api_key=None)
    tag = uuid.uuid4().hex
    versioned = await client.assistants.create(
        "schemas", context={"model_name": "v1"}, metadata={"tag": tag}
    )
    aid = versioned["assistant_id"]
    await client.assistants.update(aid, context={"model_name": "v2"}, name="second")
    await client.assistants.update(aid, metadata={"v": 3})
    await client.assistants.set_latest(aid, 2)
    done = (await client.threads.create(metadata={"tag": tag}))["thread_id"]
    await client.runs.wait(done, "agent", input=HI)
    paused = (await client.threads.create(metadata={"tag": tag}))["thread_id"]
    await client.runs.wait(paused, "hitl", input={"messages": []})
    updated = (
        await client.threads.create(
            graph_id="agent", supersteps=[{"updates": [{"values": {"count": 9}, "as_node": "a"}]}]
        )
    )["thread_id"]
    failed = (await client.threads.create())["thread_id"]
    await client.runs.wait(failed, "fail", input={"messages": []}, raise_error=False)
    copied = (await client.threads.copy(done))["thread_id"]
    deleted = (await client.assistants.create("agent"))["assistant_id"]
    await client.assistants.delete(deleted)
    # a deleted system assistant comes back at the restart; an edited one is left as edited
    hitl = await client.assistants.get(system_assistant_id("hitl"))
    await client.assistants.delete(hitl["assistant_id"])
    await client.assistants.update(system_assistant_id("agent"), metadata={"edited": True})
    system = [system_assistant_id(g) for g in ("agent", "factory")]
    threads = [done, paused, updated, failed, copied]
    before = await snapshot(client, [aid, *system], threads)
    assert before["threads"][paused]["status"] == "interrupted"
    assert before["threads"][failed]["status"] == "error"
    assert len(before["histories"][done]) == 4

    server.restart()
    client = get_client(url=server.url, api_key=None)
    after = await snapshot(client, [aid, *system], threads)
    assert after == before
    assert await client.threads.count(metadata={"tag": tag}) == 3  # done, paused and the copy
    with pytest.raises(NotFoundError):
        await client.assistants.get(deleted)
    back = await client.assistants.get(hitl["assistant_id"])
    assert {k: v for k, v in back.items() if not k.endswith("_at")} == {
        k: v for k, v in hitl.items() if not k.endswith("_at")
    }
    agent = after["assistants"][system_assistant_id("agent")]
    assert agent["metadata"] == {"created_by": "system", "edited": True} and agent["version"] == 2
    # the data is live, not a read-only echo: runs resume and assistants keep versioning
    resumed = await client.runs.wait(paused, "hitl", command={"resume": "after restart"})
    assert resumed["answer"] == "after restart"
    assert (await client.assistants.update(aid, name="fourth"))["version"] == 4
    assert (await client.runs.wait(None, aid, input={"question": "q"}))["answer"] == "q? (v2)"
