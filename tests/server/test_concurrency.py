"""Cancellation and multitask strategies: runs on one thread never overlap, and each
strategy does what it says on a busy thread."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from datetime import datetime

import httpx
import pytest
from langgraph_sdk import get_client

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def _until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def _running(sdk, tid, rid):
    return await _until(lambda: _status_is(sdk, tid, rid, "running"))


async def _status_is(sdk, tid, rid, status):
    return (await sdk.runs.get(tid, rid))["status"] == status


async def test_cancel_stops_a_30s_node_in_under_a_second(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    run = await sdk.runs.create(tid, "slow", input={"sleep": 30})
    await _running(sdk, tid, run["run_id"])
    started = time.monotonic()
    await sdk.runs.cancel(tid, run["run_id"], wait=True)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, elapsed
    assert (await sdk.runs.get(tid, run["run_id"]))["status"] == "interrupted"
    thread = await sdk.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert thread["error"]["error"] == "UserInterrupt"


async def test_cancel_rollback_deletes_the_run_and_its_checkpoints(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(tid, "slow", input={"sleep": 0})
    before = await sdk.threads.get_history(tid, limit=100)
    run = await sdk.runs.create(tid, "slow", input={"sleep": 30})
    await _running(sdk, tid, run["run_id"])
    await sdk.runs.cancel(tid, run["run_id"], action="rollback", wait=True)
    with pytest.raises(httpx.HTTPStatusError) as err:
        await sdk.runs.get(tid, run["run_id"])
    assert err.value.response.status_code == 404
    after = await sdk.threads.get_history(tid, limit=100)
    assert [s["checkpoint_id"] for s in after] == [s["checkpoint_id"] for s in before]
    thread = await sdk.threads.get(tid)
    assert thread["status"] == "idle"  # not left busy, unlike the reference
    assert thread["values"]["count"] == 1


async def test_cancel_of_finished_or_unknown_runs_is_404(graphdock_server, sdk):
    tid = (await sdk.threads.create())["thread_id"]
    run = await sdk.runs.create(tid, "agent", input=HI)
    await sdk.runs.join(tid, run["run_id"])
    r = httpx.post(f"{graphdock_server}/threads/{tid}/runs/{run['run_id']}/cancel")
    assert r.status_code == 404 and "No matching runs" in r.json()["detail"]
    r = httpx.post(
        f"{graphdock_server}/threads/{tid}/runs/00000000-0000-4000-8000-000000000000/cancel"
    )
    assert r.status_code == 404 and r.json()["detail"] == "No runs found to cancel."


async def test_enqueued_runs_run_one_at_a_time_in_order(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    runs = [
        await sdk.runs.create(
            tid, "slow", input={"sleep": 0.2, "messages": [{"role": "user", "content": str(i)}]}
        )
        for i in range(3)
    ]
    await sdk.runs.join(tid, runs[-1]["run_id"])
    final = await sdk.threads.get_state(tid)
    users = [m["content"] for m in final["values"]["messages"] if m["role"] == "user"]
    assert users == ["0", "1", "2"]
    assert final["values"]["count"] == 3
    records = [await sdk.runs.get(tid, r["run_id"]) for r in runs]
    assert [r["status"] for r in records] == ["success"] * 3


async def test_reject_on_busy_thread_is_409(graphdock_server, sdk):
    tid = (await sdk.threads.create())["thread_id"]
    first = await sdk.runs.create(tid, "slow", input={"sleep": 1})
    r = httpx.post(
        f"{graphdock_server}/threads/{tid}/runs",
        json={"assistant_id": "agent", "multitask_strategy": "reject"},
    )
    assert r.status_code == 409
    assert r.json()["detail"].startswith("Thread is already running a task")
    await sdk.runs.join(tid, first["run_id"])
    assert (await sdk.runs.get(tid, first["run_id"]))["status"] == "success"


async def test_interrupt_strategy_stops_the_running_run(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    first = await sdk.runs.create(tid, "slow", input={"sleep": 30})
    await _running(sdk, tid, first["run_id"])
    second = await sdk.runs.create(tid, "agent", input=HI, multitask_strategy="interrupt")
    await sdk.runs.join(tid, second["run_id"])
    assert (await sdk.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert (await sdk.runs.get(tid, second["run_id"]))["status"] == "success"


async def test_rollback_strategy_deletes_the_running_run(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    first = await sdk.runs.create(tid, "slow", input={"sleep": 30})
    await _running(sdk, tid, first["run_id"])
    second = await sdk.runs.create(tid, "agent", input=HI, multitask_strategy="rollback")
    await sdk.runs.join(tid, second["run_id"])
    assert [r["run_id"] for r in await sdk.runs.list(tid)] == [second["run_id"]]
    assert (await sdk.threads.get(tid))["values"]["count"] == 2


async def test_delete_running_run_leaves_thread_idle(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    run = await sdk.runs.create(tid, "slow", input={"sleep": 30})
    await _running(sdk, tid, run["run_id"])
    await sdk.runs.delete(tid, run["run_id"])
    thread = await _until(lambda: _thread_settled(sdk, tid))
    assert thread["status"] == "idle"


async def _thread_settled(sdk, tid):
    thread = await sdk.threads.get(tid)
    return thread if thread["status"] != "busy" else None


async def test_bulk_cancel_by_ids_and_status(graphdock_server, sdk):
    tid = (await sdk.threads.create())["thread_id"]
    a = await sdk.runs.create(tid, "slow", input={"sleep": 30})
    b = await sdk.runs.create(tid, "slow", input={"sleep": 30})
    await _running(sdk, tid, a["run_id"])
    r = httpx.post(
        f"{graphdock_server}/runs/cancel",
        json={"thread_id": tid, "run_ids": [a["run_id"], b["run_id"]]},
    )
    assert r.status_code == 204
    await _until(lambda: _status_is(sdk, tid, a["run_id"], "interrupted"))
    assert (await sdk.runs.get(tid, b["run_id"]))["status"] == "interrupted"
    r = httpx.post(f"{graphdock_server}/runs/cancel", json={"status": "pending", "thread_id": tid})
    assert r.status_code == 422


async def test_disconnecting_client_cancels_with_on_disconnect_cancel(graphdock_server, sdk):
    tid = (await sdk.threads.create())["thread_id"]
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream(
            "POST",
            f"{graphdock_server}/threads/{tid}/runs/stream",
            json={"assistant_id": "slow", "input": {"sleep": 30}, "on_disconnect": "cancel"},
        ) as r:
            async for line in r.aiter_lines():
                if line.startswith("data:"):
                    break  # got the metadata event; now go away
    run = (await sdk.runs.list(tid))[0]
    await _until(lambda: _status_is(sdk, tid, run["run_id"], "interrupted"))


async def test_stream_on_busy_thread_waits_its_turn(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    first = await sdk.runs.create(tid, "slow", input={"sleep": 0.5})
    events = [p.event async for p in sdk.runs.stream(tid, "agent", input=HI)]
    assert events[0] == "metadata" and events.count("values") == 3
    assert (await sdk.runs.get(tid, first["run_id"]))["status"] == "success"


async def test_runs_on_different_threads_run_concurrently(sdk):
    threads = [(await sdk.threads.create())["thread_id"] for _ in range(4)]
    started = time.monotonic()
    await asyncio.gather(*(sdk.runs.wait(t, "slow", input={"sleep": 1}) for t in threads))
    assert time.monotonic() - started < 2.5


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_a_run_queued_behind_a_busy_thread_waits_without_spinning(server_process):
    """The worker pool sleeps until the running run ends; it must not poll the queue in a
    loop meanwhile (it once did: the queued run was due, so it slept for 0 s)."""
    server = server_process()
    client = get_client(url=server.url, api_key=None)
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "slow", input={"sleep": 4})
    queued = await client.runs.create(tid, "slow", input={"sleep": 0}, multitask_strategy="enqueue")
    await _running(client, tid, first["run_id"])
    before = _cpu_seconds(server.proc.pid)
    await asyncio.sleep(2)
    used = _cpu_seconds(server.proc.pid) - before
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "pending"
    assert used < 0.5, f"the idle server used {used:.2f} s of CPU in 2 s"
    await client.runs.join(tid, queued["run_id"])
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "success"


def _run_intervals(server, run_ids: list[str]) -> list[tuple[datetime, datetime]]:
    """When each run started and ended, as the server recorded them: read once, after the
    fact, so no polling can miss or misplace a moment."""
    query = "SELECT started_at, ended_at FROM runs WHERE run_id IN ({})"
    if server.backend == "postgres":
        import psycopg

        with psycopg.connect(server.database_url) as conn:
            rows = conn.execute(query.format(",".join(["%s"] * len(run_ids))), run_ids).fetchall()
    else:
        with sqlite3.connect(server.data_dir / "graphdock.sqlite") as conn:
            rows = conn.execute(query.format(",".join("?" * len(run_ids))), run_ids).fetchall()
    parse = lambda v: v if isinstance(v, datetime) else datetime.fromisoformat(v)  # noqa: E731
    return [(parse(a).replace(tzinfo=None), parse(b).replace(tzinfo=None)) for a, b in rows]


async def test_runs_beyond_the_concurrency_limit_start_as_slots_free(server_process):
    """Two slots, six runs: never more than two run at once, and each waiting run starts as
    soon as a slot frees (a finishing run wakes the pool; no poll interval in between)."""
    server = server_process(extra_args=["--n-jobs-per-worker", "2"])
    client = get_client(url=server.url, api_key=None)
    threads = [(await client.threads.create())["thread_id"] for _ in range(6)]
    runs = [await client.runs.create(t, "slow", input={"sleep": 0.5}) for t in threads]
    for tid, run in zip(threads, runs, strict=True):
        await client.runs.join(tid, run["run_id"])
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    intervals = _run_intervals(server, [r["run_id"] for r in runs])
    at_once = max(sum(s <= start < e for s, e in intervals) for start, _ in intervals)
    assert at_once == 2
    starts = sorted(s for s, _ in intervals)
    ends = sorted(e for _, e in intervals)
    # the i-th run that had to wait starts when the i-th slot frees, not a poll (2 s) later
    gaps = [(starts[2 + i] - ends[i]).total_seconds() for i in range(4)]
    assert max(gaps) < 1.0, gaps


async def test_cancelling_a_scheduled_run_starts_the_one_queued_behind_it(server_process):
    """A run queued behind one scheduled for later starts as soon as that one is cancelled."""
    server = server_process()
    client = get_client(url=server.url, api_key=None)
    tid = (await client.threads.create())["thread_id"]
    later = await client.runs.create(tid, "slow", input={"sleep": 0}, after_seconds=60)
    queued = await client.runs.create(tid, "slow", input={"sleep": 0}, multitask_strategy="enqueue")
    await asyncio.sleep(0.3)
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "pending"
    await client.runs.cancel(tid, later["run_id"])
    started = time.monotonic()
    await _until(lambda: _status_is(client, tid, queued["run_id"], "success"), timeout=10)
    waited = time.monotonic() - started
    assert waited < 1.5, f"the queued run started {waited:.1f} s after the cancel"
