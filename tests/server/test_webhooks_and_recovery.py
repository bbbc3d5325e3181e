"""Webhooks reach a real receiver; timeouts end runs; a killed server resumes its runs."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.support.receiver import Receiver
from tests.support.sse import parse

HI = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_webhook_posts_the_finished_run(graphdock_server, receiver):
    tid = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    body = {
        "assistant_id": "agent",
        "input": HI,
        "webhook": f"{receiver.url}/hook?q=1",
        "metadata": {"wh": 1},
    }
    run = httpx.post(f"{graphdock_server}/threads/{tid}/runs/wait", json=body, timeout=30)
    assert run.status_code == 200
    [request] = receiver.wait_for(1)
    assert request["path"] == "/hook?q=1"
    payload = request["body"]
    assert payload["status"] == "success" and payload["thread_id"] == tid
    assert payload["values"]["count"] == 2
    assert payload["metadata"]["wh"] == 1
    for key in (
        "run_id",
        "assistant_id",
        "kwargs",
        "run_started_at",
        "run_ended_at",
        "webhook_sent_at",
    ):
        assert key in payload
    assert "error" not in payload


def test_webhook_reports_errors_and_retries_on_5xx(graphdock_server):
    receiver = Receiver(fail_first=1)
    try:
        body = {"assistant_id": "fail", "input": {}, "webhook": f"{receiver.url}/hook"}
        httpx.post(f"{graphdock_server}/runs/wait", json=body, timeout=30)
        requests = receiver.wait_for(2)
        assert len(requests) == 2  # the first answer was 503: sent again
        # Unsigned (no secret configured), yet one id for the delivery, kept on the retry.
        first, retry = ({k.lower(): v for k, v in r["headers"].items()} for r in requests)
        assert first["webhook-id"] == retry["webhook-id"]
        assert first["webhook-id"].startswith("msg_") and "webhook-signature" not in retry
        payload = requests[-1]["body"]
        assert payload["status"] == "error"
        assert payload["error"] == {"error": "ValueError", "message": "boom"}
        assert payload["values"] is None  # stateless: as the reference
    finally:
        receiver.close()


def test_run_timeout_ends_run_as_timeout(server_process):
    server = server_process(env={"BG_JOB_TIMEOUT_SECS": "1"})
    with httpx.Client(base_url=server.url, timeout=30) as client:
        tid = client.post("/threads", json={}).json()["thread_id"]
        started = time.monotonic()
        client.post(
            f"/threads/{tid}/runs/wait", json={"assistant_id": "slow", "input": {"sleep": 20}}
        )
        assert time.monotonic() - started < 5
        [run] = client.get(f"/threads/{tid}/runs").json()
        assert run["status"] == "timeout"
        thread = client.get(f"/threads/{tid}").json()
        assert thread["status"] == "error"
        assert thread["error"] == {"error": "TimeoutError", "message": ""}


def test_killed_server_resumes_its_run_from_the_last_checkpoint(server_process, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    server = server_process()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        tid = client.post("/threads", json={}).json()["thread_id"]
        body = {
            "assistant_id": "steps",
            "input": {"delay": 0.6, "marker_dir": str(markers)},
            "durability": "sync",
        }
        run = client.post(f"/threads/{tid}/runs", json=body).json()
        deadline = time.monotonic() + 20
        while (
            len(list(markers.iterdir())) < 3 and time.monotonic() < deadline
        ):  # s1, s2 done; s3 started
            time.sleep(0.05)
    server.kill()
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        final = client.get(f"/threads/{tid}/runs/{run['run_id']}/join").json()
        assert final["log"] == ["s1", "s2", "s3", "s4"]
        record = client.get(f"/threads/{tid}/runs/{run['run_id']}").json()
        assert record["status"] == "success"
        assert client.get(f"/threads/{tid}").json()["status"] == "idle"
    ran = sorted(p.name.split(".")[0] for p in markers.iterdir())
    # s1 and s2 were checkpointed before the kill: they never run again. s3 was cut short and reruns.
    assert ran.count("s1") == 1 and ran.count("s2") == 1 and ran.count("s4") == 1
    assert ran.count("s3") == 2


def test_restart_keeps_runs_and_their_results(server_process):
    server = server_process()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        tid = client.post("/threads", json={}).json()["thread_id"]
        client.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": HI})
    server.restart()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        [run] = client.get(f"/threads/{tid}/runs").json()
        assert run["status"] == "success"
        assert client.get(f"/threads/{tid}/runs/{run['run_id']}/join").json()["count"] == 2


async def test_thread_stream_follows_runs_and_state_updates(graphdock_server):
    async with httpx.AsyncClient(base_url=graphdock_server, timeout=30) as client:
        tid = (await client.post("/threads", json={})).json()["thread_id"]
        events: list[dict] = []

        async def follow():
            async with client.stream(
                "GET", f"/threads/{tid}/stream?stream_modes=run_modes,state_update"
            ) as r:
                buffer = b""
                async for chunk in r.aiter_bytes():
                    buffer += chunk
                    events[:] = parse(buffer)
                    if any(e["event"] == "state_update" for e in events):
                        return

        follower = asyncio.create_task(follow())
        await asyncio.sleep(0.3)
        await client.post(
            f"/threads/{tid}/runs/wait",
            json={"assistant_id": "agent", "input": HI, "stream_mode": ["updates"]},
        )
        await client.post(f"/threads/{tid}/state", json={"values": {"count": 7}, "as_node": "b"})
        await asyncio.wait_for(follower, 10)
    names = [e["event"] for e in events]
    assert names[0] == "metadata" and "updates" in names
    assert {"status": "run_done"}.items() <= json.loads(
        next(e["data"] for e in events if "run_done" in e["data"])
    ).items()
    assert all("id" in e for e in events)
    state = json.loads(events[-1]["data"])
    assert state["state"]["values"]["count"] == 7


def test_heartbeat_on_idle_stream(graphdock_server):
    tid = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    with httpx.stream(
        "POST",
        f"{graphdock_server}/threads/{tid}/runs/stream",
        json={"assistant_id": "slow", "input": {"sleep": 5.5}},
        timeout=30,
    ) as r:
        raw = r.read()
    assert b": heartbeat\r\n\r\n" in raw
