"""SSE streaming: byte-compatible with the reference server, ids on every event, resumable."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.sse import parse, stream, without_ids

CAPTURES = Path("/work/shared/reference/captures/sse")
HI = {"messages": [{"role": "user", "content": "hi"}]}

# capture file -> (graph, input, stream_mode)
CASES = {
    "agent_values.txt": ("agent", HI, ["values"]),
    "agent_updates.txt": ("agent", HI, ["updates"]),
    "agent_values+updates+custom+messages-tuple.txt": (
        "agent",
        HI,
        ["values", "updates", "custom", "messages-tuple"],
    ),
    "hitl_values.txt": ("hitl", {"messages": []}, ["values"]),
    "fail_values.txt": ("fail", {}, ["values"]),
    "custom_custom.txt": ("custom", {}, ["custom"]),
    "custom_custom+updates.txt": ("custom", {}, ["custom", "updates"]),
    "parent_subgraphs_updates.txt": ("parent", {}, ["updates"]),
    "parent_subgraphs_values+updates+custom+messages-tuple.txt": (
        "parent",
        {},
        ["values", "updates", "custom", "messages-tuple"],
    ),
    "parent_nosubgraphs_updates+custom.txt": ("parent", {}, ["updates", "custom"]),
    "chat_values.txt": ("chat", {"messages": [{"role": "user", "content": "hello"}]}, ["values"]),
}


def _capture(name: str) -> str:
    path = CAPTURES / name
    if not path.exists():
        pytest.skip(f"reference capture {path} is not here")
    return without_ids(path.read_bytes())


@pytest.mark.parametrize("capture", sorted(CASES))
def test_stream_bytes_match_reference_capture(graphdock_server, capture):
    graph, graph_input, modes = CASES[capture]
    expected = _capture(capture)
    thread = httpx.post(f"{graphdock_server}/threads", json={}).json()
    body = {"assistant_id": graph, "input": graph_input, "stream_mode": modes}
    if capture.startswith("parent_subgraphs"):
        body["stream_subgraphs"] = True
    raw = stream(graphdock_server, f"/threads/{thread['thread_id']}/runs/stream", body)
    assert b"\r\n" in raw  # CRLF framing, as the reference
    got = without_ids(raw)
    assert got.strip() == expected.strip()


def test_every_event_has_a_strictly_increasing_id(graphdock_server):
    raw = stream(
        graphdock_server,
        "/runs/stream",
        {
            "assistant_id": "custom",
            "input": {"n": 50},
            "stream_mode": ["custom", "values", "updates"],
        },
    )
    events = parse(raw)
    assert len(events) > 50
    keys = [tuple(int(p) for p in e["id"].split("-")) for e in events]
    assert all("id" in e for e in events)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_join_with_last_event_id_replays_exactly_the_rest(graphdock_server):
    thread = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    raw = stream(
        graphdock_server,
        f"/threads/{thread}/runs/stream",
        {"assistant_id": "custom", "input": {"n": 20}, "stream_mode": ["custom", "updates"]},
    )
    events = parse(raw)
    run_id = httpx.get(f"{graphdock_server}/threads/{thread}/runs").json()[0]["run_id"]
    for cut in (0, 1, 7, len(events) - 1):
        rest = parse(
            stream(
                graphdock_server,
                f"/threads/{thread}/runs/{run_id}/stream",
                method="GET",
                headers={"Last-Event-ID": events[cut]["id"]},
            )
        )
        assert rest == events[cut + 1 :]
    everything = parse(
        stream(
            graphdock_server,
            f"/threads/{thread}/runs/{run_id}/stream",
            method="GET",
            headers={"Last-Event-ID": "0"},
        )
    )
    assert everything == events


def test_join_filters_by_stream_mode(graphdock_server):
    thread = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    stream(
        graphdock_server,
        f"/threads/{thread}/runs/stream",
        {"assistant_id": "agent", "input": HI, "stream_mode": ["values", "updates"]},
    )
    run_id = httpx.get(f"{graphdock_server}/threads/{thread}/runs").json()[0]["run_id"]
    events = parse(
        stream(
            graphdock_server,
            f"/threads/{thread}/runs/{run_id}/stream?stream_mode=updates",
            method="GET",
            headers={"Last-Event-ID": "0"},
        )
    )
    assert [e["event"] for e in events] == ["metadata", "updates", "updates"]


def test_joining_an_unknown_run_is_a_404(graphdock_server):
    """The reference answers 200 with an error event (a stream) or an `__error__` body."""
    thread = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    unknown = f"{graphdock_server}/threads/{thread}/runs/00000000-0000-4000-8000-000000000000"
    for url in (unknown + "/stream", unknown + "/join"):
        response = httpx.get(url)
        assert (response.status_code, response.json()) == (404, {"detail": "Run not found"})


@pytest.mark.parametrize(
    "mode", ["debug", "tasks", "checkpoints", "events", "messages", "messages-tuple"]
)
def test_each_stream_mode_produces_its_events(graphdock_server, mode):
    events = parse(
        stream(
            graphdock_server,
            "/runs/stream",
            {"assistant_id": "chat", "input": HI, "stream_mode": mode},
        )
    )
    names = {e["event"] for e in events}
    expected = {
        "debug": {"debug"},
        "tasks": {"tasks"},
        "checkpoints": {"checkpoints"},
        "events": {"events"},
        "messages": {"messages/metadata", "messages/partial"},
        "messages-tuple": {"messages"},
    }[mode]
    assert events[0]["event"] == "metadata"
    assert expected <= names, names


def test_events_mode_names_the_root_after_the_graph(graphdock_server):
    import json

    events = parse(
        stream(
            graphdock_server,
            "/runs/stream",
            {"assistant_id": "agent", "input": HI, "stream_mode": "events"},
        )
    )
    first = json.loads(events[1]["data"])
    assert first["event"] == "on_chain_start" and first["name"] == "agent"
    assert first["run_id"] == json.loads(events[0]["data"])["run_id"]


def test_stream_headers_and_locations(graphdock_server):
    thread = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    with httpx.stream(
        "POST",
        f"{graphdock_server}/threads/{thread}/runs/stream",
        json={"assistant_id": "agent", "input": HI},
    ) as r:
        r.read()
        run_id = parse(r.content)[0]["data"].split('"')[3]
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert r.headers["location"] == f"/threads/{thread}/runs/{run_id}/stream"
        assert r.headers["content-location"] == f"/threads/{thread}/runs/{run_id}"


def test_invalid_stream_mode_is_422(graphdock_server):
    r = httpx.post(
        f"{graphdock_server}/runs/stream", json={"assistant_id": "agent", "stream_mode": "bogus"}
    )
    assert r.status_code == 422
    assert "stream_mode" in r.json()["detail"]


def test_finished_run_events_expire_after_the_retention(server_process):
    server = server_process(env={"GRAPHDOCK_EVENT_RETENTION_SECONDS": "1"})
    tid = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
    raw = stream(server.url, f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": HI})
    run_id = parse(raw)[0]["data"].split('"')[3]
    join = f"/threads/{tid}/runs/{run_id}/stream"
    assert parse(stream(server.url, join, method="GET", headers={"Last-Event-ID": "0"})) == parse(
        raw
    )
    import time

    time.sleep(1.5)
    httpx.post(
        f"{server.url}/runs/wait", json={"assistant_id": "agent", "input": HI}
    )  # expiry runs on new logs
    # A replay of what is gone says so, with or without an id, rather than ending empty.
    for headers in ({"Last-Event-ID": "0"}, {}):
        [gone] = parse(stream(server.url, join, method="GET", headers=headers))
        assert gone["event"] == "error" and "EventsNotRetained" in gone["data"], gone
        assert run_id in gone["data"] and "no longer retained" in gone["data"]
    # the final values outlive the event log: join falls back to the thread's state
    assert httpx.get(f"{server.url}{join.removesuffix('/stream')}/join").json()["count"] == 2
