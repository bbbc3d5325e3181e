"""Run streams: every mode, subgraph namespaces, v2 parts, joins with Last-Event-ID."""

from __future__ import annotations

import asyncio

import pytest

from graphdock.client import NotFoundError, StreamPart

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def test_values_and_updates_modes(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    parts = await api.collect(
        c.runs.stream, tid, "agent", input=HI, stream_mode=["values", "updates"]
    )
    assert all(isinstance(p, StreamPart) for p in parts)
    assert parts[0].event == "metadata" and parts[0].data["run_id"]
    assert [p.event for p in parts[1:]] == ["values", "updates", "values", "updates", "values"]
    assert parts[2].data == {"a": {"messages": [{"role": "assistant", "content": "a"}], "count": 1}}
    assert parts[-1].data["count"] == 2


async def test_default_mode_is_values_and_ids_present_when_resumable(api):
    c = api.client
    parts = await api.collect(c.runs.stream, None, "agent", input=HI)
    assert [p.event for p in parts] == ["metadata", "values", "values", "values"]
    tid = (await api(c.threads.create))["thread_id"]
    resumable = await api.collect(c.runs.stream, tid, "agent", input=HI, stream_resumable=True)
    assert [p.event for p in resumable] == ["metadata", "values", "values", "values"]
    assert all(p.id for p in resumable)


@pytest.mark.parametrize(
    ("graph", "mode", "expected"),
    [
        ("custom", "custom", [{"progress": 0}, {"progress": 1}, {"progress": 2}, "plain-string"]),
        ("staticmsg", "messages-tuple", None),
        ("agent", "tasks", None),
        ("agent", "checkpoints", None),
        ("agent", "debug", None),
        ("chat", "messages", None),
        ("agent", "events", None),
    ],
)
async def test_each_stream_mode(api, graph, mode, expected):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    parts = await api.collect(c.runs.stream, tid, graph, input=HI, stream_mode=mode)
    body = parts[1:]
    assert parts[0].event == "metadata" and body
    if mode == "custom":
        assert [p.data for p in body] == expected
    elif mode == "messages-tuple":
        (part,) = body
        message, meta = part.data
        assert part.event == "messages" and message["content"] == "static reply"
        assert meta["langgraph_node"] == "static"
    elif mode == "tasks":
        assert {p.event for p in body} == {"tasks"}
        assert [p.data["name"] for p in body if "triggers" in p.data] == ["a", "b"]
    elif mode == "checkpoints":
        assert {p.event for p in body} == {"checkpoints"}
        assert body[-1].data["values"]["count"] == 2 and body[-1].data["next"] == []
    elif mode == "debug":
        assert {p.data["type"] for p in body} == {"checkpoint", "task", "task_result"}
    elif mode == "messages":
        events = [p.event for p in body]
        assert events[0] == "messages/metadata" and "messages/partial" in events
        last = [p for p in body if p.event == "messages/partial"][-1]
        assert last.data[0]["content"] == "hello world from fake"
    elif mode == "events":
        assert body[0].data["event"] == "on_chain_start"
        assert {p.event for p in body} == {"events"}


async def test_subgraph_namespaces(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    parts = await api.collect(
        c.runs.stream,
        tid,
        "parent",
        input={},
        stream_mode=["updates", "custom"],
        stream_subgraphs=True,
    )
    names = [p.event.split("|")[0] + ("|sub" if "|" in p.event else "") for p in parts]
    assert names == ["metadata", "updates", "updates|sub", "custom|sub", "updates|sub", "updates"]
    child = [p for p in parts if "|" in p.event]
    assert all(p.event.split("|")[1].startswith("child:") for p in child)
    assert [p.data for p in child if p.event.startswith("custom")] == [{"from": "c2"}]
    flat = await api.collect(
        c.runs.stream, tid, "parent", input={}, stream_mode=["updates", "custom"]
    )
    assert [p.event for p in flat] == ["metadata", "updates", "updates"]


async def test_version_v2_parts(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    parts = await api.collect(
        c.runs.stream,
        tid,
        "parenthitl",
        input={},
        stream_mode=["values", "updates"],
        stream_subgraphs=True,
        version="v2",
    )
    assert parts[0]["type"] == "metadata"
    assert any(p["ns"] and p["ns"][0].startswith("sub:") for p in parts)
    root_values = [p for p in parts if p["type"] == "values" and not p["ns"]]
    assert root_values[-1]["interrupts"][0]["value"]["question"] == "approve?"
    assert "__interrupt__" not in root_values[-1]["data"]


async def test_error_event_ends_the_stream(api):
    parts = await api.collect(api.client.runs.stream, None, "fail", input={})
    assert parts[-1][:2] == ("error", {"error": "ValueError", "message": "boom"})


async def test_stream_errors_before_start_are_typed(api):
    with pytest.raises(NotFoundError):
        await api.collect(
            api.client.runs.stream, "00000000-0000-4000-8000-000000000000", "agent", input={}
        )


async def test_join_stream_replays_after_last_event_id(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    # steps 20 ms apart: the reference's event ids are per-millisecond and would collide
    live = await api.collect(
        c.runs.stream,
        tid,
        "steps",
        input={"delay": 0.02},
        stream_mode="updates",
        stream_resumable=True,
    )
    run_id = live[0].data["run_id"]
    assert [list(p.data) for p in live[1:]] == [["s1"], ["s2"], ["s3"], ["s4"]]
    replay = await api.collect(c.runs.join_stream, tid, run_id, last_event_id="0")
    assert [(p.event, p.data) for p in replay] == [(p.event, p.data) for p in live]
    after = await api.collect(c.runs.join_stream, tid, run_id, last_event_id=live[2].id)
    assert [list(p.data) for p in after] == [["s3"], ["s4"]]


async def test_join_stream_of_a_background_run(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    run = await api(c.runs.create, tid, "steps", input={"delay": 0.2}, stream_mode="updates")
    parts = await api.collect(c.runs.join_stream, tid, run["run_id"], stream_mode="updates")
    assert [list(p.data) for p in parts if p.event == "updates"] == [["s1"], ["s2"], ["s3"], ["s4"]]


async def test_thread_join_stream_sees_runs(api):
    c = api.client
    tid = (await api(c.threads.create))["thread_id"]
    if api.is_async:
        stream = await c.threads.join_stream(tid)  # awaiting first, as the official API requires
        assert stream.__aiter__() is stream
    watcher = asyncio.create_task(api.collect(_until_run_done, c.threads.join_stream(tid)))
    # after_seconds leaves the watcher time to connect before the run emits anything
    await api(c.runs.create, tid, "agent", input=HI, stream_mode="updates", after_seconds=1)
    seen = await asyncio.wait_for(watcher, 30)
    assert [p.event for p in seen].count("updates") == 2


def _until_run_done(stream):
    if hasattr(stream, "__aiter__"):
        return _until_run_done_async(stream)

    def gen():
        for part in stream:
            yield part
            if part.event == "metadata" and part.data.get("status") == "run_done":
                return

    return gen()


async def _until_run_done_async(stream):
    async for part in stream:
        yield part
        if part.event == "metadata" and part.data.get("status") == "run_done":
            return
