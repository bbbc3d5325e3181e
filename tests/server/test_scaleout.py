"""Scale-out: several API and worker processes on one PostgreSQL database and one Redis.

Every process here is a real `graphdock serve --no-jobs` or `graphdock worker`; the runs
they share are claimed with SKIP LOCKED, their events go through Redis streams, and a
worker killed mid-run loses it to another after its lease (6 s in tests) runs out.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from graphdock.client import get_sync_client
from tests.support import scaleout
from tests.support.server import TEST_APP, ServerProcess
from tests.support.sse import parse

pytestmark = pytest.mark.postgres_only


def start_cluster(server_process, *, apis: int = 1, workers: int = 2, env=None, database_url=None):
    """API processes (no jobs) and workers on one database and Redis prefix, started at once.

    Without `database_url`, the first API process gets a fresh (migrated) database; with
    one, every process starts at the same moment on it, migrations included.
    """
    if database_url is None:
        first = server_process(extra_args=["--no-jobs"], env=env)
        database_url, prefix, apis = first.database_url, first.redis_prefix, apis - 1
    else:
        first, prefix = None, scaleout.new_prefix()
    shared = {"database_url": database_url, "redis_prefix": prefix, "env": env}
    with ThreadPoolExecutor(apis + workers) as pool:
        api_procs = [
            pool.submit(server_process, extra_args=["--no-jobs"], **shared) for _ in range(apis)
        ]
        procs = [pool.submit(server_process, command="worker", **shared) for _ in range(workers)]
        api_list = [f.result() for f in api_procs]
        return ([first] if first else []) + api_list, [f.result() for f in procs]


@pytest.mark.long
def test_two_apis_two_workers_share_runs_streams_and_cancels(server_process, tmp_path):
    """A run created through API 1 is streamed and cancelled through API 2; then 120 runs
    created through both APIs at once all succeed, each step of each run executed once."""
    # An empty database: all four processes start at once and migrate it under one lock.
    database_url = scaleout.create_empty_database()
    try:
        (api1, api2), workers = start_cluster(
            server_process, apis=2, workers=2, env={"N_JOBS_PER_WORKER": "20"},
            database_url=database_url,
        )  # fmt: skip
        share_runs_streams_and_cancels(api1, api2, workers, tmp_path)
    finally:
        for proc in server_process.started:
            proc.stop()
        scaleout.drop_database_later(database_url)


def share_runs_streams_and_cancels(api1, api2, workers, tmp_path) -> None:
    with httpx.Client(base_url=api1.url, timeout=30) as c1, httpx.Client(base_url=api2.url, timeout=30) as c2:  # fmt: skip
        tid = c1.post("/threads", json={}).json()["thread_id"]
        run = c1.post(
            f"/threads/{tid}/runs", json={"assistant_id": "slow", "input": {"sleep": 30}}
        ).json()
        raw = b""
        cancelled_at = None
        with c2.stream("GET", f"/threads/{tid}/runs/{run['run_id']}/stream") as stream:
            for chunk in stream.iter_bytes():
                raw += chunk
                if cancelled_at is None and b"event: values" in raw:
                    # The graph is running in a worker; cancel it through the other API.
                    r = c2.post(f"/threads/{tid}/runs/{run['run_id']}/cancel")
                    assert r.status_code in (200, 202, 204), r.text
                    cancelled_at = time.monotonic()
        assert cancelled_at is not None, raw
        assert time.monotonic() - cancelled_at < 5  # the stream closed soon after the cancel
        events = parse(raw)
        assert events[0]["event"] == "metadata"
        assert all("id" in e for e in events)
        record = c1.get(f"/threads/{tid}/runs/{run['run_id']}").json()
        assert record["status"] == "interrupted"
        assert c2.get(f"/threads/{tid}").json()["status"] in ("idle", "interrupted")
        # Any API replays the finished run's events from the shared log.
        assert parse(c1.get(f"/threads/{tid}/runs/{run['run_id']}/stream").read()) == events
    many_runs_each_once([api1, api2], workers, tmp_path)


@pytest.mark.long
def test_killed_worker_run_is_finished_by_another_from_its_checkpoint(server_process, tmp_path):
    """SIGKILL the worker mid-run: the other finishes the run from its last checkpoint, the
    client's join_stream follows it to the end. Then SIGTERM drains the other worker."""
    markers = tmp_path / "markers"
    markers.mkdir()
    (api,), workers = start_cluster(
        server_process, apis=1, workers=2, env={"GRAPHDOCK_SHUTDOWN_GRACE_SECONDS": "10"}
    )
    by_pid = {w.proc.pid: w for w in workers}
    client = get_sync_client(url=api.url, api_key=None)
    thread = client.threads.create()
    run = client.runs.create(
        thread["thread_id"], "steps",
        input={"delay": 1.0, "marker_dir": str(markers)}, durability="sync", stream_mode=["values"],
    )  # fmt: skip
    streamed: list = []
    done = threading.Event()

    def follow() -> None:
        for part in client.runs.join_stream(thread["thread_id"], run["run_id"]):
            streamed.append(part)
        done.set()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()

    def ran() -> list[tuple[str, int]]:
        return sorted((p.name.split(".")[0], int(p.name.split(".")[1])) for p in markers.iterdir())

    deadline = time.monotonic() + 30
    while len(ran()) < 3 and time.monotonic() < deadline:  # s1, s2 done; s3 started
        time.sleep(0.05)
    steps = ran()
    assert [name for name, _ in steps] == ["s1", "s2", "s3"], steps
    victim = by_pid[steps[-1][1]]
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()

    assert done.wait(60), f"join_stream did not end; got {streamed}"
    final = client.runs.join(thread["thread_id"], run["run_id"])
    assert final["log"] == ["s1", "s2", "s3", "s4"]
    record = client.runs.get(thread["thread_id"], run["run_id"])
    assert record["status"] == "success"
    # The stream followed the run across workers to its very last state, then closed.
    values = [p.data for p in streamed if p.event == "values"]
    assert values and values[-1]["log"] == ["s1", "s2", "s3", "s4"]
    assert streamed[0].event == "metadata"
    survivor = next(pid for pid in by_pid if pid != victim.proc.pid)
    counts = {name: [pid for n, pid in ran() if n == name] for name in ("s1", "s2", "s3", "s4")}
    # s1 and s2 were checkpointed before the kill: they never ran again. s3 was cut short
    # and ran again on the survivor, which then ran s4.
    assert len(counts["s1"]) == 1 and len(counts["s2"]) == 1
    assert sorted(counts["s3"]) == sorted([victim.proc.pid, survivor])
    assert counts["s4"] == [survivor]

    # SIGTERM drains: the survivor stops claiming, finishes its run within the grace, exits.
    drained = tmp_path / "drained"
    drained.mkdir()
    run = client.runs.create(
        thread["thread_id"], "steps", input={"delay": 0.5, "marker_dir": str(drained)}
    )
    deadline = time.monotonic() + 20
    while not list(drained.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(survivor, signal.SIGTERM)
    assert by_pid[survivor].proc.wait(20) == 0
    assert client.runs.get(thread["thread_id"], run["run_id"])["status"] == "success"
    assert len(list(drained.iterdir())) == 4
    client.close()


def many_runs_each_once(apis, workers, tmp_path, n: int = 120) -> None:
    dirs = [tmp_path / f"run-{i}" for i in range(n)]
    for d in dirs:
        d.mkdir()

    async def main() -> list[dict]:
        limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
        clients = [httpx.AsyncClient(base_url=a.url, timeout=120, limits=limits) for a in apis]
        gate = asyncio.Semaphore(50)

        async def one(i: int, d: Path) -> dict:
            client = clients[i % len(clients)]
            async with gate:
                r = await client.post("/threads", json={})
                assert r.status_code == 200, r.text
                tid = r.json()["thread_id"]
                body = {"assistant_id": "steps", "input": {"delay": 0, "marker_dir": str(d)}}
                r = await client.post(f"/threads/{tid}/runs", json=body)
                assert r.status_code == 200, r.text
                run = r.json()
            await client.get(f"/threads/{tid}/runs/{run['run_id']}/join")
            return (await client.get(f"/threads/{tid}/runs/{run['run_id']}")).json()

        try:
            return await asyncio.gather(*(one(i, d) for i, d in enumerate(dirs)))
        finally:
            for client in clients:
                await client.aclose()

    records = asyncio.run(main())
    assert [r["status"] for r in records] == ["success"] * n
    pids = set()
    for d in dirs:
        names = sorted(p.name.split(".")[0] for p in d.iterdir())
        assert names == ["s1", "s2", "s3", "s4"], (d, names)  # every step ran exactly once
        pids.update(int(p.name.split(".")[1]) for p in d.iterdir())
    assert pids == {w.proc.pid for w in workers}, "both workers took runs, and only they did"


def test_semantic_search_on_postgres_with_pgvector(tmp_path):
    """The store's semantic search on Postgres, with pgvector. The machine's PostgreSQL has
    no pgvector: this one runs on the PostgreSQL (with pgvector) that the `pgserver` package
    ships.

    Its data lives outside pytest's temp root: run as root, pgserver hands the folder to a
    user of its own, and another pytest session starting meanwhile resets that root to 0700,
    which locks that user out mid-start."""
    pgserver = pytest.importorskip(
        "pgserver", reason="pgserver (a PostgreSQL with pgvector) is not installed"
    )
    pg_dir = Path(tempfile.mkdtemp(prefix="graphdock-pgvector-"))
    pg = pgserver.get_server(pg_dir, cleanup_mode="stop")
    server = None
    try:
        pg.psql("CREATE DATABASE gd_vector;")
        url = f"postgresql://postgres@/gd_vector?host={pg_dir}"
        server = ServerProcess(tmp_path / "srv", backend="postgres", database_url=url).start()
        client = get_sync_client(url=server.url, api_key=None)
        docs = {
            "bio": "engineer who drinks tea",
            "hobby": "plays chess on weekends",
            "pet": "has a cat named milk",
        }
        for key, text in docs.items():
            client.store.put_item(["people", "u1"], key, {"text": text})
        found = client.store.search_items(["people"], query="tea drinker engineer")["items"]
        assert found[0]["key"] == "bio"
        scores = [i["score"] for i in found]
        assert None not in scores and scores == sorted(scores, reverse=True)
        client.close()
    finally:
        if server is not None:
            server.stop()
            scaleout.drop_prefix(server.redis_prefix)
        pg.cleanup()
        shutil.rmtree(pg_dir, ignore_errors=True)


async def test_processes_starting_together_add_each_system_assistant_once():
    """Every process adds the system assistants at start. When another process is adding
    one at that moment (its insert not yet committed), this one waits for it and adds
    nothing; it used to fail on the key, and the process exited."""
    from graphdock.server.adapters.postgres.setup import create_engine
    from graphdock.server.adapters.sql.storage import SqlStorage
    from graphdock.server.config import load_config
    from graphdock.server.services.assistants import AssistantService
    from graphdock.server.services.graphs import GraphRegistry, system_assistant_id

    url = scaleout.create_database(TEST_APP)
    other, this = (SqlStorage(create_engine(url, pool_size=2)) for _ in "ab")
    service = AssistantService(this, GraphRegistry.load(load_config(TEST_APP)))
    now = datetime.now(UTC)
    record = {
        "assistant_id": system_assistant_id("agent"),
        "graph_id": "agent", "config": {}, "context": {}, "metadata": {"created_by": "other"},
        "name": "agent", "description": None, "version": 1, "created_at": now, "updated_at": now,
    }  # fmt: skip
    try:
        async with other.begin() as tx:
            await tx.delete_assistant(record["assistant_id"])  # the template database has it
        async with other.begin() as tx:
            await tx.insert_assistant(record)
            starting = asyncio.ensure_future(service.ensure_system_assistants())
            await asyncio.sleep(0.5)
            assert not starting.done()  # waiting on the other process's insert
        await starting
        async with this.begin() as tx:
            kept = await tx.get_assistant(record["assistant_id"])
            assert kept["metadata"] == {"created_by": "other"}  # the first insert won
            assert await tx.get_assistant(system_assistant_id("hitl")) is not None
    finally:
        await other.close()
        await this.close()
        scaleout.drop_database_later(url)
