"""Clients of the thread protocol beyond the SDK's own stream: langgraph's RemoteGraph
(classic API and v3) and, in scale-out, a reconnect served by another API process."""

from __future__ import annotations

import uuid

import pytest

from tests.server.test_thread_stream import ALL, read_events, root_lifecycle, start

STEPS = {"messages": [], "count": 0}


async def test_remote_graph_runs_with_the_classic_api_and_with_v3(graphdock_server):
    from langgraph.pregel.remote import RemoteGraph

    remote = RemoteGraph("agent", url=graphdock_server)
    classic = await remote.ainvoke(STEPS)
    assert classic["count"] == 2 and [m["content"] for m in classic["messages"]] == ["a", "b"]

    async with await remote.astream_events(STEPS, version="v3") as run:
        output = await run.output()
        assert output["count"] == 2
        assert await run.interrupted() is False

    with RemoteGraph("agent", url=graphdock_server).stream_events(STEPS, version="v3") as run:
        assert run.output["count"] == 2


async def test_remote_graph_v3_resumes_an_interrupt_on_the_same_thread(graphdock_server):
    from langgraph.pregel.remote import RemoteGraph
    from langgraph.types import Command

    remote = RemoteGraph("toolagent", url=graphdock_server)
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    question = {"messages": [{"role": "user", "content": "what is v3?"}]}
    async with await remote.astream_events(question, config=config, version="v3") as run:
        async for _ in run.values:
            pass
        assert await run.interrupted()
    async with await remote.astream_events(
        Command(resume="ok"), config=config, version="v3"
    ) as run:
        assert (await run.output())["approved"] == "ok"


@pytest.mark.postgres_only
def test_another_api_process_serves_the_reconnect(server_process):
    """The run is started and watched through API 1 while a worker process runs it; the
    reconnect goes to API 2, which never saw the thread, and gets exactly what was missed."""
    api1 = server_process(extra_args=["--no-jobs"])
    shared = {"database_url": api1.database_url, "redis_prefix": api1.redis_prefix}
    api2 = server_process(extra_args=["--no-jobs"], **shared)
    server_process(command="worker", **shared)
    tid = str(uuid.uuid4())
    start(api1.url, tid)
    seen = read_events(api1.url, tid, {"channels": ALL}, root_lifecycle("interrupted"))
    cut = seen[len(seen) // 3]["seq"]
    missed = read_events(api2.url, tid, {"channels": ALL, "since": cut}, root_lifecycle("interrupted"))  # fmt: skip
    assert missed == seen[cut:]
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
