"""The embedded event store stays within its byte budget (GRAPHDOCK_EVENT_MEMORY_MB) by
dropping the events of the runs that finished first, never a live run's; a replay of a
dropped stream is told so in an `error` event the official SDK reads, and join still answers
from the thread's state."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from graphdock.server.adapters.memory.bus import MemoryEventBus
from graphdock.server.settings import Settings

HI = {"messages": [{"role": "user", "content": "hi"}]}
BUDGET_MB = 0.03  # ~31 KB: a handful of the test graph's runs
RUNS = 40


@pytest.mark.sqlite_only  # the scale-out server keeps events in Redis, not in memory
async def test_memory_stays_within_the_budget_and_a_dropped_replay_says_so(server_process):
    from langgraph_sdk import get_client

    server = server_process(env={"GRAPHDOCK_EVENT_MEMORY_MB": str(BUDGET_MB)})
    sdk = get_client(url=server.url, api_key=None)
    runs = []
    for _ in range(RUNS):
        thread = await sdk.threads.create()
        run = await sdk.runs.create(thread["thread_id"], "agent", input=HI)
        await sdk.runs.join(thread["thread_id"], run["run_id"])
        runs.append((thread["thread_id"], run["run_id"]))

    async with httpx.AsyncClient(base_url=server.url) as http:
        events = (await http.get("/metrics", params={"format": "json"})).json()["events"]
    budget = int(BUDGET_MB * 1024 * 1024)
    assert events["memory_budget_bytes"] == budget
    assert 0 < events["stored_bytes"] <= budget
    assert events["dropped_for_memory"] > 0
    assert events["finished_logs"] == events["logs"] < RUNS

    # The newest run is still kept whole; the oldest was dropped first.
    newest, oldest = runs[-1], runs[0]
    kept = [p async for p in sdk.runs.join_stream(*newest, last_event_id="0")]
    assert kept[0].event == "metadata" and "values" in {p.event for p in kept}

    for last_event_id in ("0", kept[-1].id, None):
        parts = [p async for p in sdk.runs.join_stream(*oldest, last_event_id=last_event_id)]
        [part] = parts
        assert part.event == "error" and part.data["error"] == "EventsNotRetained"
        assert oldest[1] in part.data["message"] and "no longer retained" in part.data["message"]
    # The outcome outlives the events: join answers from the thread's state.
    assert (await sdk.runs.join(*oldest))["count"] == 2
    assert (await sdk.runs.get(*oldest))["status"] == "success"


def test_a_bad_budget_is_refused_by_name(monkeypatch):
    for value in ("lots", "-1", "nan"):
        monkeypatch.setenv("GRAPHDOCK_EVENT_MEMORY_MB", value)
        with pytest.raises(ValueError, match="GRAPHDOCK_EVENT_MEMORY_MB"):
            Settings()
    monkeypatch.setenv("GRAPHDOCK_EVENT_MEMORY_MB", "0.5")
    assert Settings().event_memory_bytes == 512 * 1024


# ---------------------------------------------------------------- the bus itself


async def _kept(bus: MemoryEventBus, channels: list[str]) -> list[str]:
    return [c for c in channels if await bus.has_channel(c)]


async def test_the_bus_drops_finished_logs_oldest_first_and_never_a_live_one():
    payload = b'{"n": "' + b"x" * 500 + b'"}'
    bus = MemoryEventBus(memory_budget=4_000)  # room for four such events
    finished = [f"run:{n}" for n in range(6)]
    await bus.publish("run:live", "values", payload)  # a run still going
    for channel in finished:
        await bus.publish(channel, "values", payload)
        await bus.close_channel(channel)
    assert await _kept(bus, finished) == finished[3:]  # the first to finish went first
    assert bus.stats()["stored_bytes"] <= 4_000 and bus.stats()["dropped_for_memory"] == 3

    for _ in range(4):  # the live run goes on past the budget: finished logs make room
        await bus.publish("run:live", "values", payload)
    assert await _kept(bus, finished) == []
    assert bus.stats()["stored_bytes"] > 4_000  # what is left is live, and kept whole
    live = bus.subscribe("run:live")
    assert len(await anext(live)) == 5
    await live.aclose()

    # A client that saw the run as running subscribes after its log was dropped: the
    # subscription ends at once instead of waiting on a new, never-closed log.
    assert [batch async for batch in bus.subscribe("run:0")] == []
    await bus.close_channel("run:0")  # closing it again does not bring it back
    assert not await bus.has_channel("run:0")


async def test_a_thread_log_is_kept_while_followed_and_may_go_once_nobody_does():
    payload = b'{"n": "' + b"x" * 500 + b'"}'
    bus = MemoryEventBus(memory_budget=2_000)  # room for two such events
    follower = bus.subscribe("thread:t", idle=0.01)
    assert await anext(follower) == []  # following it (an idle tick: nothing yet)
    for _ in range(3):
        await bus.publish("thread:t", "values", payload)
    await bus.publish("run:r", "values", payload)
    await bus.close_channel("run:r")
    assert await bus.has_channel("thread:t") and not await bus.has_channel("run:r")
    assert len(await anext(follower)) == 3
    await follower.aclose()  # the last follower leaves: the log may go now, and does
    assert not await bus.has_channel("thread:t")
    assert bus.stats()["stored_bytes"] == 0
    # A new follower starts a new, live log.
    again = bus.subscribe("thread:t", live_only=True, idle=0.01)
    assert await anext(again) == []
    await bus.publish("thread:t", "values", payload)
    assert [e.event for e in await anext(again)] == ["values"]
    await again.aclose()


async def test_stored_bytes_follow_what_is_kept():
    bus = MemoryEventBus(memory_budget=None)
    assert bus.stats()["stored_bytes"] == 0
    await bus.publish("run:a", "values", b"{}")
    await bus.close_channel("run:a")
    one = bus.stats()["stored_bytes"]
    assert one > 0
    await asyncio.sleep(0)
    bus.memory_budget = 0  # nothing finished may stay
    await bus.publish("run:b", "values", b"{}")
    assert not await bus.has_channel("run:a") and await bus.has_channel("run:b")
    assert bus.stats()["stored_bytes"] == one  # run:b's one event, run:a's gone


async def test_thread_logs_count_against_the_budget_and_keep_their_numbering():
    """The v3 thread logs are held to the same budget: the idle ones lose their events,
    least recently used first, but a thread that runs again numbers on from where it was."""
    bus = MemoryEventBus(memory_budget=None)
    body = b'"method":"custom","params":{"namespace":[],"data":"' + b"x" * 200 + b'"}}'
    assert await bus.append_thread_events("t1", [("custom", (), body)] * 10) == 10
    assert await bus.append_thread_events("t2", [("custom", (), body)] * 10) == 10
    held = bus.stats()["stored_bytes"]
    assert held >= 20 * len(body)
    followed = bus.read_thread_events("t2", after=0, idle=0.01)
    assert [e.seq for e in await anext(followed)] == list(range(1, 11))  # t2 has a reader now
    bus.memory_budget = held  # full: the next event of a third thread must push one out
    await bus.append_thread_events("t3", [("custom", (), body)])
    assert bus.stats()["stored_bytes"] <= held
    assert [e async for e in _drain(bus, "t1")] == []  # t1: idle, used least recently
    assert await bus.thread_seq("t1") == 10  # but its numbering is kept
    assert await bus.append_thread_events("t1", [("custom", (), body)]) == 11
    # t2 is followed and t3 is being written: both keep what they hold
    assert len([e async for e in _drain(bus, "t2")]) == 10
    assert len([e async for e in _drain(bus, "t3")]) == 1
    await followed.aclose()


async def test_a_thread_log_keeps_its_newest_events_and_their_bytes():
    bus = MemoryEventBus(memory_budget=None, thread_log_maxlen=5)
    await bus.append_thread_events("t", [("values", (), b"x" * 100)] * 12)
    events = [e async for e in _drain(bus, "t")]
    assert [e.seq for e in events] == [8, 9, 10, 11, 12]
    one = bus.stats()["stored_bytes"] / 5
    assert 100 < one < 400


async def _drain(bus, thread_id):
    """What a reader from the start gets at once."""
    reader = bus.read_thread_events(thread_id, after=0, idle=0.01)
    try:
        for event in await anext(reader):
            yield event
    finally:
        await reader.aclose()
