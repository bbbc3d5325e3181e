"""The v3 thread streaming protocol, driven by the official SDK's `client.threads.stream`
(over SSE and over WebSocket) and by plain HTTP where the wire itself is the point."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

import httpx
import pytest

from tests.app.agents import ANSWER, CALL_TEXT

QUESTION = {"messages": [{"role": "user", "content": "what is v3?"}]}
ALL = ["values", "updates", "messages", "tools", "lifecycle", "input", "checkpoints", "tasks", "custom"]  # fmt: skip


def command(url: str, thread_id: str, method: str, params: dict, id: int = 1) -> dict:
    body = {"id": id, "method": method, "params": params}
    return httpx.post(f"{url}/threads/{thread_id}/commands", json=body, timeout=30).json()


def read_events(url: str, thread_id: str, body: dict, until) -> list[dict]:
    """The subscription's events up to the first one `until` accepts."""
    events = []
    with httpx.stream(
        "POST", f"{url}/threads/{thread_id}/stream/events", json=body, timeout=30
    ) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if until(events[-1]):
                    return events
    raise AssertionError(f"the stream ended before the awaited event: {events[-3:]}")


def root_lifecycle(*statuses: str):
    def accept(event: dict) -> bool:
        params = event["params"]
        return (
            event["method"] == "lifecycle"
            and params["namespace"] == []
            and params["data"]["event"] in statuses
        )

    return accept


def start(url: str, thread_id: str, graph: str = "toolagent", graph_input=QUESTION) -> str:
    response = command(url, thread_id, "run.start", {"assistant_id": graph, "input": graph_input})
    assert response["type"] == "success", response
    return response["result"]["run_id"]


# ---------------------------------------------------------------- the official SDK
@pytest.mark.parametrize("transport", ["sse", "websocket"])
async def test_sdk_streams_tokens_tool_calls_subgraphs_and_custom_events(
    graphdock_server, transport
):
    from langgraph_sdk import get_client

    client = get_client(url=graphdock_server, api_key=None)
    async with client.threads.stream(assistant_id="toolagent", transport=transport) as thread:
        started = await thread.run.start(input={**QUESTION, "ask": False})
        assert started["run_id"]
        # one subscription for every projection, from the run's first event to its end
        # (projections opened one after another may each start where the last one is)
        items: dict[str, list] = {}
        async for name, item in thread.interleave_projections(
            ["messages", "tool_calls", "subgraphs", "progress", "values"]
        ):
            items.setdefault(name, []).append(item)
        msgs = [([t async for t in s.text], await s.output) for s in items["messages"]]
        tools = [(h.name, h.input, await h.output) for h in items["tool_calls"]]
        subs = [(h.graph_name, h.namespace, h.status) for h in items["subgraphs"]]
        # token by token, as the model streamed them; the tool call's arguments arrive
        # in pieces and end as a parsed call
        (first_tokens, first), (second_tokens, _) = msgs
        assert first_tokens == ["Let", " me", " look", " that", " up."]
        assert "".join(first_tokens) == CALL_TEXT and "".join(second_tokens) == ANSWER
        assert first.tool_calls == [
            {"name": "lookup", "args": {"topic": "v3"}, "id": "call-1", "type": "tool_call"}
        ]
        [(name, tool_input, output)] = tools
        assert (name, tool_input) == ("lookup", {"topic": "v3"})
        assert output["content"] == "notes on v3" and output["status"] == "success"
        [(graph_name, namespace, status)] = subs
        assert graph_name == "review" and namespace[0].startswith("review:")
        assert status == "completed"
        assert [e["phase"] for e in items["progress"]] == ["start", "end"]
        assert items["values"][0]["messages"][0]["content"] == "what is v3?"
        final = await thread.output
        assert final["approved"] == "auto" and not thread.interrupted


@pytest.mark.parametrize("transport", ["sse", "websocket"])
async def test_sdk_answers_an_interrupt_with_respond(graphdock_server, transport):
    from langgraph_sdk import get_client

    client = get_client(url=graphdock_server, api_key=None)
    async with client.threads.stream(assistant_id="toolagent", transport=transport) as thread:
        await thread.run.start(input=QUESTION)
        snapshots = [v async for v in thread.values]  # ends when the run stops to ask
        assert snapshots and thread.interrupted
        [interrupt] = thread.interrupts
        assert interrupt["value"] == {"question": "Send the answer?"}
        assert interrupt["namespace"][0].startswith("review:")
        await thread.run.respond("yes")
        final = await thread.output
        assert final["approved"] == "yes"
        assert final["messages"][-1]["content"][0]["text"] == ANSWER
        assert not thread.interrupted


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_sync_sdk_streams_values_and_resumes_with_respond(graphdock_server, transport):
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=graphdock_server, api_key=None)
    with client.threads.stream(assistant_id="toolagent", transport=transport) as thread:
        thread.run.start(input=QUESTION)
        snapshots = list(thread.values)
        assert snapshots and thread.interrupted
        thread.run.respond("approved")
        assert thread.output["approved"] == "approved"


async def test_cancelled_run_ends_the_sdk_projections(graphdock_server):
    """A cancel ends the run for a subscriber too: the values iterator finishes and the
    thread's output says it was cancelled (the reference never ends `thread.values`)."""
    from langgraph_sdk import get_client

    client = get_client(url=graphdock_server, api_key=None)
    async with client.threads.stream(assistant_id="slow") as thread:
        run = await thread.run.start(input={"sleep": 30})

        async def cancel_soon():
            await asyncio.sleep(0.3)
            await client.runs.cancel(thread.thread_id, run["run_id"])

        canceller = asyncio.create_task(cancel_soon())
        snapshots = [v async for v in thread.values]
        await canceller
        assert snapshots
        with pytest.raises(RuntimeError, match="cancelled"):
            await asyncio.wait_for(thread.output, 10)


# ---------------------------------------------------------------- the wire
def test_sequence_numbers_increase_and_since_replays_exactly_what_was_missed(graphdock_server):
    url, tid = graphdock_server, str(uuid.uuid4())
    run_id = start(url, tid)
    everything = read_events(url, tid, {"channels": ALL}, root_lifecycle("interrupted"))
    seqs = [e["seq"] for e in everything]
    assert seqs == list(range(1, len(seqs) + 1))
    assert everything[0]["params"]["data"] == {
        "event": "running",
        "graph_name": "toolagent",
        "run_id": run_id,
    }
    methods = {e["method"] for e in everything}
    assert methods == {"values", "updates", "messages", "tools", "lifecycle", "input.requested", "checkpoints", "tasks", "custom"}  # fmt: skip
    cut = seqs[len(seqs) // 2]
    missed = read_events(url, tid, {"channels": ALL, "since": cut}, root_lifecycle("interrupted"))
    assert missed == everything[cut:]

    # a second run on the thread goes on numbering where the first stopped
    [interrupt] = [e for e in everything if e["method"] == "input.requested"]
    answer = command(url, tid, "input.respond", {
        "interrupt_id": interrupt["params"]["data"]["interrupt_id"],
        "namespace": interrupt["params"]["namespace"],
        "response": "ok",
    })  # fmt: skip
    assert answer["type"] == "success" and answer["meta"]["applied_through_seq"] == seqs[-1]
    rest = read_events(url, tid, {"channels": ["lifecycle"], "since": seqs[-1]}, root_lifecycle("completed"))  # fmt: skip
    assert rest[0]["seq"] > seqs[-1]
    assert [e["seq"] for e in rest] == sorted({e["seq"] for e in rest})


def test_two_subscribers_each_get_their_own_filter(graphdock_server):
    url, tid = graphdock_server, str(uuid.uuid4())
    start(url, tid)
    results: dict[str, list] = {}

    def subscribe(name: str, body: dict) -> None:
        def interrupted(event: dict) -> bool:
            return event["method"] == "lifecycle" and event["params"]["data"]["event"] == "interrupted"  # fmt: skip

        results[name] = read_events(url, tid, body, interrupted)

    filters = {
        "tokens": {"channels": ["messages", "lifecycle"], "namespaces": [[]], "depth": 0},
        "review": {"channels": ["custom", "lifecycle"], "namespaces": [["review"]]},
    }
    workers = [threading.Thread(target=subscribe, args=item) for item in filters.items()]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    tokens, review = results["tokens"], results["review"]
    assert {e["method"] for e in tokens} == {"messages", "lifecycle"}
    assert all(e["params"]["namespace"] == [] for e in tokens)
    deltas = [e["params"]["data"]["delta"] for e in tokens if e["params"]["data"].get("event") == "content-block-delta"]  # fmt: skip
    assert {"type": "text-delta", "text": " me"} in deltas
    assert {"type": "block-delta", "fields": {"type": "tool_call_chunk", "args": '{"topic": "v'}} in deltas  # fmt: skip
    # the review subscription saw only the subgraph's events
    custom = [e["params"]["data"] for e in review if e["method"] == "custom"]
    assert custom == [
        {"name": "progress", "step": "review", "phase": "start"},
        {"payload": "plain note"},
    ]
    lifecycle = [(e["params"]["namespace"][:1], e["params"]["data"]["event"]) for e in review if e["method"] == "lifecycle"]  # fmt: skip
    assert [status for _, status in lifecycle] == ["started", "interrupted"]
    assert all(ns[0].startswith("review:") for ns, _ in lifecycle)


def test_cancel_before_the_run_runs_still_ends_it_on_the_stream(graphdock_server):
    url, tid = graphdock_server, str(uuid.uuid4())
    first = start(url, tid, "slow", {"sleep": 30})
    queued = start(url, tid, "slow", {"sleep": 30})  # waits behind the first
    cancelled = command(url, tid, "run.cancel", {"run_id": queued})
    assert cancelled == {"type": "success", "id": 1, "result": {"run_ids": [queued]}}

    def ended(run_id):
        return lambda e: e["method"] == "lifecycle" and e["params"]["data"].get("run_id") == run_id and e["params"]["data"]["event"] == "failed"  # fmt: skip

    [*_, end] = read_events(url, tid, {"channels": ["lifecycle"]}, ended(queued))
    assert end["params"]["data"]["reason"] == "cancelled"
    assert command(url, tid, "run.cancel", {})["result"] == {"run_ids": [first]}
    read_events(url, tid, {"channels": ["lifecycle"]}, ended(first))


def test_bad_commands_and_subscriptions_get_the_protocols_errors(graphdock_server):
    url, tid = graphdock_server, str(uuid.uuid4())

    def error_of(method, params, id=7):
        response = command(url, tid, method, params, id)
        assert response["type"] == "error" and response["id"] == id, response
        return response["error"], response["message"]

    assert error_of("run.launch", {})[0] == "unknown_command"
    assert error_of("run.start", {}) == ("invalid_argument", "run.start requires an assistant_id")
    code, message = error_of("run.start", {"assistant_id": "agent", "stream_mode": "values"})
    assert code == "invalid_argument" and "stream_mode" in message
    assert error_of("run.start", {"assistant_id": "agent", "config": []})[0] == "invalid_argument"
    assert error_of("input.respond", {"response": 1})[0] == "invalid_argument"
    assert error_of("input.respond", {"interrupt_id": "nope", "response": 1})[0] == "no_such_interrupt"  # fmt: skip
    assert error_of("subscription.subscribe", {"channels": ["values"]})[0] == "not_supported"
    assert error_of("state.get", {"namespace": []})[0] == "invalid_argument"  # no such thread
    bad = httpx.post(f"{url}/threads/{tid}/commands", content=b"{nope", timeout=10)
    assert bad.status_code == 400 and bad.json()["type"] == "error" and bad.json()["id"] is None
    not_a_command = httpx.post(f"{url}/threads/{tid}/commands", json=[1], timeout=10).json()
    assert not_a_command["error"] == "invalid_argument"

    stream = f"{url}/threads/{tid}/stream/events"
    assert httpx.post(stream, json={"channels": ["values"]}, timeout=10).status_code == 404
    start(url, tid, "agent", {"messages": []})
    for body in ({"channels": []}, {"channels": ["vaules"]}, {"channels": ["values"], "depth": -1},
                 {"channels": ["values"], "since": "x"}, {"channels": ["values"], "filter": 1}):  # fmt: skip
        response = httpx.post(stream, json=body, timeout=10)
        assert response.status_code == 422, body
        assert response.json()["detail"].startswith("Invalid subscription")
    state = command(url, tid, "state.get", {"namespace": [], "keys": ["count"]})
    assert state["type"] == "success" and set(state["result"]["values"]) <= {"count"}


async def test_a_subscriber_behind_the_kept_events_is_told_what_it_missed():
    from graphdock.server.adapters.memory.bus import MemoryEventBus
    from graphdock.server.api.routes.thread_stream import delivered
    from graphdock.server.services import protocol

    bus = MemoryEventBus(thread_log_maxlen=3)
    events = [protocol.event("custom", (), {"payload": i}) for i in range(5)]
    assert await bus.append_thread_events("t", events) == 5
    subscription = protocol.Subscription(frozenset({"custom"}))
    async for batch in delivered(bus, "t", subscription, 0, None):
        notice, *kept = batch
        break
    assert json.loads(notice) == {
        "type": "error",
        "id": None,
        "error": "invalid_argument",
        "message": "2 event(s) before seq 3 are no longer kept",
    }
    assert [json.loads(e.framed())["params"]["data"]["payload"] for e in kept] == [2, 3, 4]
    await bus.close()


async def test_websocket_subscriptions_unsubscribe_and_reconnect(graphdock_server):
    from websockets.asyncio.client import connect

    url, tid = graphdock_server, str(uuid.uuid4())
    start(url, tid, "agent", {"messages": []})
    read_events(url, tid, {"channels": ["lifecycle"]}, root_lifecycle("completed"))
    everything = read_events(url, tid, {"channels": ALL}, root_lifecycle("completed"))

    async def call(ws, id, method, params):
        await ws.send(json.dumps({"id": id, "method": method, "params": params}))
        while (reply := json.loads(await ws.recv())).get("type") == "event":
            pass
        assert reply["id"] == id
        return reply

    ws_url = url.replace("http", "ws") + f"/threads/{tid}/stream/events"
    async with connect(ws_url) as ws:
        bad = await call(ws, 1, "subscription.subscribe", {"channels": ["nope"]})
        assert bad["error"] == "invalid_argument"
        gone = await call(ws, 2, "subscription.unsubscribe", {"subscription_id": "x"})
        assert gone["error"] == "no_such_subscription"
        cut = everything[2]["seq"]
        restored = await call(ws, 3, "subscription.reconnect",
                              {"last_event_id": str(cut), "channels": ALL})  # fmt: skip
        assert restored["result"]["restored"] is True
        replayed = [json.loads(await ws.recv()) for _ in everything[cut:]]
        assert replayed == everything[cut:]
        sub = restored["result"]["subscription_id"]
        assert (await call(ws, 4, "subscription.unsubscribe", {"subscription_id": sub}))["type"] == "success"  # fmt: skip
        # the socket goes on answering commands after its subscription is gone
        tree = await call(ws, 5, "agent.getTree", {})
        assert tree["result"]["tree"]["graph_name"] == "agent"
        await ws.send("{not json")
        assert json.loads(await ws.recv())["error"] == "invalid_argument"
