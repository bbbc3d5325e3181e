"""Fencing: a worker stalled past its lease writes nothing once another worker has its run.

The process-level test pauses a real `graphdock worker` with SIGSTOP in the middle of a
run's last step, lets another worker take the run over and finish it, resumes the first with
SIGCONT, and proves that nothing of the stale attempt lands: not a checkpoint of the thread,
not the run record, not the thread's values, not an event of the run's stream.

The port-level tests show each store refusing a stale attempt's writes by itself, on both
databases and both event buses, whatever the worker believes of its lease.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from langgraph.checkpoint.base import empty_checkpoint

from graphdock.server.executor.lease import Lease
from graphdock.server.ports.bus import run_channel
from graphdock.server.ports.errors import StaleAttempt
from graphdock.server.ports.storage import FENCE_KEY
from tests.server.test_scaleout import start_cluster
from tests.support import scaleout
from tests.support.server import TEST_APP, start_steps_run, wait_for

STOPPED_LINE = "stopped here and recorded nothing"


def _written(client: httpx.Client, thread_id: str, run_id: str) -> dict:
    """Everything a run's attempts may write, as the API shows it."""
    history = client.post(f"/threads/{thread_id}/history", json={"limit": 100}).json()
    return {
        "checkpoints": [(s["checkpoint"]["checkpoint_id"], s["values"]) for s in history],
        "run": client.get(f"/threads/{thread_id}/runs/{run_id}").json(),
        "thread": client.get(f"/threads/{thread_id}").json(),
        "stream": client.get(f"/threads/{thread_id}/runs/{run_id}/stream").content,
    }


@pytest.mark.long
@pytest.mark.postgres_only
def test_worker_stalled_past_its_lease_writes_nothing_after_the_takeover(server_process, tmp_path):
    markers = tmp_path / "markers"
    (api,), workers = start_cluster(server_process, apis=1, workers=2)
    by_pid = {w.proc.pid: w for w in workers}
    with httpx.Client(base_url=api.url, timeout=30) as client:
        # Quick steps, then a last one long enough to be caught in, even on a busy machine.
        thread_id, run_id = start_steps_run(client, markers, delay=0.2, s4=3.0)

        # Pause the worker as soon as it starts the last step (s1..s3 are checkpointed).
        first = wait_for(lambda: list(markers.glob("s4.*")), "the last step to start")[0]
        stalled = by_pid[int(first.name.split(".")[1])]
        stalled.proc.send_signal(signal.SIGSTOP)
        try:
            other = next(w for w in workers if w is not stalled)
            # Its lease runs out; the other worker re-queues the run, re-runs s4, finishes.
            wait_for(
                lambda: (
                    client.get(f"/threads/{thread_id}/runs/{run_id}").json()["status"] == "success"
                ),
                "the other worker to finish the run",
            )
            before = _written(client, thread_id, run_id)
        finally:
            stalled.proc.send_signal(signal.SIGCONT)

        # The stalled worker's s4 completes now: it must find out it lost the run and stop
        # without writing anything (or, unfenced, its writes land).
        log_start = len(stalled.log())
        wait_for(
            lambda: (
                STOPPED_LINE in stalled.log()[log_start:]
                or _written(client, thread_id, run_id) != before
            ),
            "the stalled worker to give the run up",
        )
        time.sleep(1.0)  # whatever it would still write, given the time to write it
        after = _written(client, thread_id, run_id)

    assert after["checkpoints"] == before["checkpoints"], "a stale checkpoint landed"
    assert after["run"] == before["run"], "the stale attempt rewrote the run record"
    assert after["thread"] == before["thread"], "the stale attempt rewrote the thread"
    assert after["stream"] == before["stream"], "the stale attempt published events"
    assert STOPPED_LINE in stalled.log()[log_start:]
    assert after["run"]["status"] == "success"
    assert after["thread"]["values"]["log"] == ["s1", "s2", "s3", "s4"]
    ran = sorted((p.name.split(".")[0], int(p.name.split(".")[1])) for p in markers.iterdir())
    # s4 ran on both, the other worker's run of it counted; nothing ran after it anywhere.
    assert ran.count(("s4", stalled.proc.pid)) == 1 and ran.count(("s4", other.proc.pid)) == 1
    assert len(ran) == 5
    assert b'"attempt":2' in after["stream"]
    assert stalled.proc.poll() is None and other.proc.poll() is None  # both still serve


# ---------------------------------------------------------------------------- ports


def _checkpoint_config(thread_id: str, fence) -> dict:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": "", FENCE_KEY: fence}}


def _run_record(run_id: str, thread_id: str, attempt: int) -> dict:
    now = datetime.now(UTC)
    return {
        "run_id": run_id, "thread_id": thread_id, "assistant_id": str(uuid.uuid4()),
        "metadata": {}, "status": "running", "kwargs": {}, "multitask_strategy": None,
        "created_at": now, "updated_at": now, "available_at": now, "attempt": attempt,
        "worker_id": "w", "lease_until": now,
    }  # fmt: skip


def _thread_record(thread_id: str) -> dict:
    now = datetime.now(UTC)
    return {
        "thread_id": thread_id, "created_at": now, "updated_at": now, "state_updated_at": now,
        "metadata": {}, "status": "busy", "config": {}, "values": None, "interrupts": None,
        "error": None, "ttl": None, "expires_at": None,
    }  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
async def fenced_backend(request, tmp_path):
    """Storage and checkpointer of one backend, on a fresh database."""
    if request.param == "sqlite":
        from graphdock.server.adapters.sql.storage import SqlStorage
        from graphdock.server.adapters.sqlite.checkpointer import open_checkpointer
        from graphdock.server.adapters.sqlite.engine import create_sqlite_engine, migrate_sqlite

        path = tmp_path / "graphdock.sqlite"
        migrate_sqlite(path)
        async with open_checkpointer(path) as checkpointer:
            storage = SqlStorage(create_sqlite_engine(path), lock=checkpointer.lock)
            yield storage, checkpointer
            await storage.close()
        return
    import contextlib

    from graphdock.server.adapters.postgres.backend import _open_postgres
    from graphdock.server.config import load_config

    url = scaleout.create_database(TEST_APP)
    try:
        async with contextlib.AsyncExitStack() as stack:
            storage, checkpointer, _ = await _open_postgres(
                stack, url, load_config(TEST_APP), migrate=False
            )
            yield storage, checkpointer
    finally:
        scaleout.drop_database_later(url)


async def test_storage_refuses_the_writes_of_a_stale_attempt(fenced_backend):
    """Attempt 1 of a run now at attempt 2: its checkpoint, its pending writes and its end
    (run record and thread values, in one transaction) are refused, and nothing lands;
    attempt 2's go through. A run deleted meanwhile still lets its writes through (its
    cancel stops it)."""
    from graphdock.server.adapters.memory.bus import MemoryEventBus
    from graphdock.server.services.runs import RunService

    storage, checkpointer = fenced_backend
    thread_id, run_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with storage.begin() as tx:
        await tx.insert_thread(_thread_record(thread_id))
        await tx.insert_run(_run_record(run_id, thread_id, attempt=2))
    stale, current = Lease(run_id, 1, 60.0), Lease(run_id, 2, 60.0)

    with pytest.raises(StaleAttempt):
        await checkpointer.aput(_checkpoint_config(thread_id, stale), empty_checkpoint(), {}, {})
    with pytest.raises(StaleAttempt):
        await checkpointer.aput_writes(
            {"configurable": {**_checkpoint_config(thread_id, stale)["configurable"],
                              "checkpoint_id": "x"}},
            [("log", ["stale"])], "task-1",
        )  # fmt: skip
    assert [c async for c in checkpointer.alist({"configurable": {"thread_id": thread_id}})] == []

    runs = RunService(storage, None, None, MemoryEventBus(), None)
    ending = {"status": "idle", "values": {"log": ["stale"]}}
    with pytest.raises(StaleAttempt):
        await runs.mark_finished({"run_id": run_id, "thread_id": thread_id}, status="success",
                                 thread_values=ending, fence=stale)  # fmt: skip
    async with storage.begin() as tx:
        assert (await tx.get_run(run_id))["status"] == "running"
        assert (await tx.get_thread(thread_id))["values"] is None  # rolled back with the run

    saved = await checkpointer.aput(
        _checkpoint_config(thread_id, current), empty_checkpoint(), {}, {}
    )
    assert saved["configurable"]["checkpoint_id"]
    await runs.mark_finished({"run_id": run_id, "thread_id": thread_id}, status="success",
                             thread_values=ending, fence=current)  # fmt: skip
    async with storage.begin() as tx:
        assert (await tx.get_run(run_id))["status"] == "success"
        assert (await tx.get_thread(thread_id))["values"] == {"log": ["stale"]}

    # A worker that knows it lost its lease is refused without asking the database.
    lost = Lease(run_id, 3, 60.0)
    lost.lose("test")
    with pytest.raises(StaleAttempt):
        await checkpointer.aput(_checkpoint_config(thread_id, lost), empty_checkpoint(), {}, {})

    # Deleted meanwhile: no other attempt can have it.
    async with storage.begin() as tx:
        await tx.delete_run(run_id)
    await checkpointer.aput(_checkpoint_config(thread_id, current), empty_checkpoint(), {}, {})


async def test_queue_tells_an_attempt_it_lost_its_run(fenced_backend):
    """The heartbeat renews only the attempt that holds the run; `stale` names the runs that
    moved on without an attempt (re-queued or re-claimed), not the deleted ones."""
    storage, _ = fenced_backend
    thread_id = str(uuid.uuid4())
    held, moved, gone = (str(uuid.uuid4()) for _ in range(3))
    async with storage.begin() as tx:
        for run_id in (held, moved, gone):
            await tx.insert_run(_run_record(run_id, thread_id, attempt=2))
        await tx.delete_run(gone)
    leases = [Lease(held, 2, 60.0), Lease(moved, 1, 60.0), Lease(gone, 2, 60.0)]
    renewed = await storage.heartbeat(leases, "w", datetime.now(UTC))
    assert renewed == {held}
    assert await storage.stale(leases) == [moved]


async def test_event_bus_refuses_events_of_an_attempt_older_than_one_that_published(bus):
    run_id = str(uuid.uuid4())
    channel = run_channel(run_id)
    first, second = Lease(run_id, 1, 60.0), Lease(run_id, 2, 60.0)
    assert await bus.publish(channel, "values", b'{"n":1}', fence=first) is not None
    assert await bus.publish(channel, "values", b'{"n":2}', fence=second) is not None
    # The first attempt, stalled and resumed, goes on as if nothing happened:
    assert await bus.publish(channel, "values", b'{"n":"stale"}', fence=first) is None
    assert await bus.close_channel(channel, fence=first) is False
    assert await bus.close_channel(channel, fence=second) is True

    async def read() -> list[bytes]:
        return [e.data async for batch in bus.subscribe(channel) for e in batch]

    assert await asyncio.wait_for(read(), 10) == [b'{"n":1}', b'{"n":2}']


async def test_a_run_that_recorded_its_end_is_not_stopped_while_it_closes_its_stream(tmp_path):
    """Between recording its end and closing its stream, a run is no longer `running`: the
    heartbeat must not take that for a lost lease and cut off the stream's last events (the
    result that `wait` returns)."""
    from graphdock.server.adapters.memory.bus import MemoryEventBus
    from graphdock.server.adapters.sql.storage import SqlStorage
    from graphdock.server.adapters.sqlite.engine import create_sqlite_engine, migrate_sqlite
    from graphdock.server.executor.worker import WorkerPool
    from graphdock.server.services import clock

    path = tmp_path / "graphdock.sqlite"
    migrate_sqlite(path)
    storage = SqlStorage(create_sqlite_engine(path))
    thread_id, run_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with storage.begin() as tx:
        await tx.insert_run({**_run_record(run_id, thread_id, 0), "status": "pending"})
    closing, closed = asyncio.Event(), asyncio.Event()

    class Closing:
        """An executor caught just after recording the run's end, closing its stream."""

        async def execute(self, run, lease):
            async with storage.begin() as tx:
                await tx.update_run(run["run_id"], {"status": "success"}, fence=lease)
            lease.end()
            closing.set()
            await asyncio.sleep(0.5)  # the heartbeat comes now
            closed.set()

    pool = WorkerPool(storage, MemoryEventBus(), Closing(), lease_seconds=60.0)
    claim = await storage.claim(pool.worker_id, clock.now(), 60.0, 1)
    pool._start(claim.runs[0], Lease.starting(claim.runs[0], 60.0, time.monotonic()))
    await closing.wait()
    await pool._renew()
    await asyncio.wait_for(closed.wait(), 5)  # not cancelled
    await storage.close()
