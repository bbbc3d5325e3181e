"""Custom auth on the v3 thread protocol: the same handlers as the classic routes
(threads.create_run, threads.read, threads.update), and one user never reaches another's
thread, by command, by SSE subscription or by WebSocket."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import websockets
from websockets.asyncio.client import connect

from tests.server.test_auth import auth_server  # noqa: F401  (the module's server)

ALICE, BOB, CAROL = ({"Authorization": f"Bearer tok-{n}"} for n in ("alice", "bob", "carol"))
INPUT = {"messages": [{"role": "user", "content": "hi"}]}


def send(server, thread_id: str, headers: dict, method: str, params: dict) -> httpx.Response:
    body = {"id": 3, "method": method, "params": params}
    return httpx.post(f"{server.url}/threads/{thread_id}/commands", json=body, headers=headers)


def events(server, thread_id: str, headers: dict, until_method: str) -> list[dict]:
    out = []
    with httpx.stream("POST", f"{server.url}/threads/{thread_id}/stream/events",
                      json={"channels": ["lifecycle", "values"]}, headers=headers, timeout=30) as r:  # fmt: skip
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                data = out[-1]["params"]["data"]
                if out[-1]["method"] == until_method and data.get("event") == "completed":
                    return out
    raise AssertionError("stream ended early")


async def test_only_the_owner_streams_and_commands_a_thread(auth_server):  # noqa: F811
    server, tid = auth_server, str(uuid.uuid4())
    started = send(server, tid, ALICE, "run.start", {"assistant_id": "agent", "input": INPUT})
    assert started.json()["type"] == "success", started.text
    seen = events(server, tid, ALICE, "lifecycle")
    assert seen[-1]["params"]["data"]["event"] == "completed"
    thread = httpx.get(f"{server.url}/threads/{tid}", headers=ALICE).json()
    assert thread["metadata"]["owner"] == "alice"  # the lazily made thread is hers

    # Bob: the thread does not exist for him, whichever way he asks
    stream = httpx.post(f"{server.url}/threads/{tid}/stream/events",
                        json={"channels": ["values"]}, headers=BOB)  # fmt: skip
    assert stream.status_code == 404
    for method, params in [
        ("run.start", {"assistant_id": "agent", "input": INPUT}),
        ("state.get", {"namespace": []}),
        ("state.listCheckpoints", {}),
        ("run.cancel", {}),
        ("input.respond", {"interrupt_id": "x", "response": 1}),
    ]:
        answer = send(server, tid, BOB, method, params).json()
        assert answer["type"] == "error", (method, answer)
        assert "alice" not in json.dumps(answer)
    ws_url = server.url.replace("http", "ws") + f"/threads/{tid}/stream/events"
    async with connect(ws_url, additional_headers=BOB) as ws:
        assert json.loads(await ws.recv())["type"] == "error"
        with pytest.raises(websockets.exceptions.ConnectionClosedError) as refused:
            await ws.recv()
    assert refused.value.rcvd.code == 4404

    # no token: refused before any handler; a read-only user cannot start a run
    assert send(server, tid, {}, "state.get", {"namespace": []}).status_code == 401
    denied = send(server, str(uuid.uuid4()), CAROL, "run.start", {"assistant_id": "agent"})
    assert denied.status_code == 403 and denied.json()["error"] == "permission_denied"

    # Alice over WebSocket: in-band subscribe, then commands on the same socket
    async with connect(ws_url, additional_headers=ALICE) as ws:
        await ws.send(json.dumps({"id": 1, "method": "subscription.subscribe",
                                  "params": {"channels": ["lifecycle"], "since": 0}}))  # fmt: skip
        assert json.loads(await ws.recv())["result"]["subscription_id"]
        first = json.loads(await ws.recv())
        assert first["seq"] == 1 and first["params"]["data"]["event"] == "running"
        await ws.send(json.dumps({"id": 2, "method": "state.get", "params": {"namespace": []}}))
        while (reply := json.loads(await ws.recv())).get("type") == "event":
            pass
        assert reply["id"] == 2 and reply["result"]["values"]["count"] == 2
