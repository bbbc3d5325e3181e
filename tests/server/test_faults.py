"""FAULT TESTS: Redis and PostgreSQL stopped and restarted under a running scale-out cluster.

Each test starts the service it breaks as a private instance of its own (a `redis-server`
on a free port, a PostgreSQL cluster in a temporary folder), never the machine's shared
ones, and real `graphdock serve --no-jobs` and `graphdock worker` processes on it. Redis
here keeps nothing on disk, so its restart is a fresh, empty Redis on the same port.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import scaleout
from tests.support.server import start_steps_run, wait_for
from tests.support.services import PrivatePostgres, PrivateRedis
from tests.support.sse import parse

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]


def _event_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq)


def _no_unhandled_errors(*procs) -> None:
    for proc in procs:
        assert proc.proc.poll() is None, f"{proc.command} exited:\n{proc.log()[-3000:]}"
        log = proc.log()
        assert "Traceback" not in log and "Internal error" not in log, log[-5000:]


@pytest.mark.long
def test_redis_restarted_mid_stream(server_process, tmp_path):
    """Redis goes away with a run streaming, another running and a third created meanwhile,
    and comes back empty. The live stream resumes with every event once, in order; a join
    from a Last-Event-ID of before the restart gets what was published after it; the run
    created during the outage was claimed by polling; a cancel sent the moment Redis is
    back reaches its run; what needs Redis answered 503 meanwhile; nothing crashed."""
    redis = PrivateRedis(tmp_path / "redis").start()
    env = {"GRAPHDOCK_POLL_INTERVAL_SECONDS": "0.5"}
    try:
        api = server_process(extra_args=["--no-jobs"], redis_url=redis.url, env=env)
        worker = server_process(command="worker", database_url=api.database_url,
                                redis_prefix=api.redis_prefix, redis_url=redis.url, env=env)  # fmt: skip
        markers = tmp_path / "markers"
        markers.mkdir()
        with httpx.Client(base_url=api.url, timeout=60) as client:
            threads = [client.post("/threads", json={}).json()["thread_id"] for _ in range(4)]
            streamed, slow, ended = threads[0], threads[1], threads[3]
            ended_run = client.post(
                f"/threads/{ended}/runs", json={"assistant_id": "steps", "input": {"delay": 0}}
            ).json()
            client.get(f"/threads/{ended}/runs/{ended_run['run_id']}/join")
            slow_run = client.post(
                f"/threads/{slow}/runs", json={"assistant_id": "slow", "input": {"sleep": 60}}
            ).json()
            raw = bytearray()
            stream_done = threading.Event()

            def follow() -> None:
                body = {
                    "assistant_id": "steps",
                    "input": {"delay": 1.0, "marker_dir": str(markers)},
                    "stream_mode": ["values"],
                }
                with httpx.Client(base_url=api.url, timeout=120) as c:
                    with c.stream("POST", f"/threads/{streamed}/runs/stream", json=body) as r:
                        assert r.status_code == 200
                        for chunk in r.iter_raw():
                            raw.extend(chunk)
                stream_done.set()

            threading.Thread(target=follow, daemon=True).start()
            wait_for(lambda: b'"log":["s1"]' in raw, "the first step's values")
            wait_for(
                lambda: (
                    client.get(f"/threads/{slow}/runs/{slow_run['run_id']}").json()["status"]
                    == "running"
                ),
                "the slow run to start",
            )
            before_restart = parse(bytes(raw))
            redis.stop()
            stopped_at = time.monotonic()

            # While Redis is down: a cancel cannot be delivered, nor an ended run's result
            # read from its log, and they say so.
            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(lambda call: call(), [
                    lambda: httpx.post(f"{api.url}/threads/{slow}/runs/{slow_run['run_id']}/cancel",
                                       timeout=60),
                    lambda: httpx.get(f"{api.url}/threads/{ended}/runs/{ended_run['run_id']}/join",
                                      timeout=60),
                ]))  # fmt: skip
            for r in answers:
                assert r.status_code == 503, r.text
                assert "Redis" in r.json()["detail"] and "retry" in r.json()["detail"]
                assert r.headers["retry-after"]
            # A v3 command too, in the protocol's error envelope; no run was made.
            command = {"id": 7, "method": "run.start",
                       "params": {"assistant_id": "steps", "input": {"delay": 0}}}  # fmt: skip
            r = client.post(f"/threads/{ended}/commands", json=command)
            assert r.status_code == 503, r.text
            assert r.json()["type"] == "error" and r.json()["id"] == 7
            assert "Redis" in r.json()["message"] and "retry" in r.json()["message"]
            assert len(client.get(f"/threads/{ended}/runs").json()) == 1
            # A run created meanwhile is accepted, and claimed by a worker that polls.
            late = client.post(
                f"/threads/{threads[2]}/runs",
                json={"assistant_id": "steps", "input": {"delay": 0}},
            )
            assert late.status_code == 200, late.text
            late_run = late.json()
            wait_for(
                lambda: (
                    client.get(f"/threads/{threads[2]}/runs/{late_run['run_id']}").json()["status"]
                    == "running"
                ),
                "the worker to claim a run by polling",
            )

            # Down for longer than the Redis client's own retries last (about 4 s).
            time.sleep(max(0.0, 7.0 - (time.monotonic() - stopped_at)))
            redis.start()
            # At once, while the worker's pub/sub may still be reconnecting.
            r = client.post(f"/threads/{slow}/runs/{slow_run['run_id']}/cancel")
            assert r.status_code in (200, 202, 204), r.text

            assert stream_done.wait(60), f"the stream did not end: {bytes(raw)[-2000:]!r}"
            events = parse(bytes(raw))
            ids = [_event_key(e["id"]) for e in events]
            assert ids == sorted(set(ids)), "event ids went back or repeated"
            values = [e["data"] for e in events if e["event"] == "values"]
            logs = [json.loads(v)["log"] for v in values]
            # Every step's values once: none lost while Redis was down, none twice.
            assert logs == [[], ["s1"], ["s1", "s2"], ["s1", "s2", "s3"], ["s1", "s2", "s3", "s4"]]

            # Joining from an id of before the restart: what was published after it.
            joined_from = before_restart[-1]["id"]
            run_id = json.loads(events[0]["data"])["run_id"]
            joined = parse(
                client.get(
                    f"/threads/{streamed}/runs/{run_id}/stream",
                    headers={"Last-Event-ID": joined_from},
                ).content
            )
            assert joined, "nothing after the restart"
            assert joined == events[-len(joined) :], "not the tail of the live stream"
            assert all(_event_key(e["id"]) > _event_key(joined_from) for e in joined)

            wait_for(
                lambda: (
                    client.get(f"/threads/{slow}/runs/{slow_run['run_id']}").json()["status"]
                    == "interrupted"
                ),
                "the cancel to reach the slow run",
            )
            assert client.get(f"/threads/{threads[2]}/runs/{late_run['run_id']}/join").json()[
                "log"
            ] == ["s1", "s2", "s3", "s4"]
        assert "Redis pub/sub is back" in worker.log()
        _no_unhandled_errors(api, worker)
    finally:
        for proc in server_process.started:
            proc.stop()
        redis.stop()


LEASE = 10  # GRAPHDOCK_LEASE_SECONDS of the PostgreSQL restart test


def _unavailable_db(client: httpx.Client, method: str, path: str, body=None) -> None:
    r = client.request(method, path, json=body)
    assert r.status_code == 503, (path, r.status_code, r.text)
    assert r.json()["detail"].startswith("The database is unavailable"), r.text
    assert "retry" in r.json()["detail"] and r.headers["retry-after"]


@pytest.mark.long
def test_postgres_restarted_with_runs_in_flight(server_process, tmp_path):
    """PostgreSQL is restarted twice under runs in flight: briefly (within the workers'
    leases: the runs wait for it and go on where they were), then for longer than a lease
    (the workers stop their runs, which are re-queued once it is back and resume from their
    last checkpoints). Meanwhile the API answers 503 with a message that says so, and
    Retry-After; after, it serves again by itself; every run completes, none lost."""
    pg = PrivatePostgres().start()
    prefix = scaleout.new_prefix()
    try:
        url = pg.create_database("graphdock")
        # A lease long enough for the brief restart to stay well within it on a busy machine.
        env = {"GRAPHDOCK_LEASE_SECONDS": str(LEASE)}
        shared = {"database_url": url, "redis_prefix": prefix, "env": env}
        api = server_process(extra_args=["--no-jobs"], **shared)
        worker = server_process(command="worker", **shared)
        with httpx.Client(base_url=api.url, timeout=60) as client:
            runs = []
            for i in range(4):
                markers = tmp_path / f"markers-{i}"
                runs.append((*start_steps_run(client, markers, delay=1.5), markers))
            some_thread = runs[0][0]

            def reached(step: str) -> bool:
                return all(list(m.glob(f"{step}.*")) for _, _, m in runs)

            wait_for(lambda: reached("s2"), "every run to reach s2")
            pg.stop("fast")  # a restart: briefer than a lease
            _unavailable_db(client, "GET", f"/threads/{some_thread}")
            _unavailable_db(client, "POST", "/threads", {})
            pg.start()
            wait_for(lambda: reached("s3"), "every run to go on to s3")
            assert "re-queued" not in worker.log(), "a run was given up in a brief restart"

            pg.stop("fast")  # down for longer than a lease
            stopped_at = time.monotonic()
            _unavailable_db(
                client, "POST", f"/threads/{some_thread}/runs/wait", {"assistant_id": "agent"}
            )
            _unavailable_db(client, "POST", f"/threads/{some_thread}/history", {"limit": 5})
            _unavailable_db(client, "PUT", "/store/items",
                            {"namespace": ["a"], "key": "k", "value": {"v": 1}})  # fmt: skip
            time.sleep(max(0.0, LEASE + 2 - (time.monotonic() - stopped_at)))
            pg.start()

            # It serves again by itself, and every run completes.
            wait_for(lambda: client.get(f"/threads/{some_thread}").status_code == 200, "the API")
            for thread_id, run_id, markers in runs:
                joined = client.get(f"/threads/{thread_id}/runs/{run_id}/join").json()
                assert joined["log"] == ["s1", "s2", "s3", "s4"], joined
                record = client.get(f"/threads/{thread_id}/runs/{run_id}").json()
                assert record["status"] == "success"
                steps = sorted(p.name.split(".")[0] for p in markers.iterdir())
                # Checkpointed before the long outage: never run again. One cut short may be.
                assert steps.count("s1") == 1 and steps.count("s2") == 1, steps
            assert "re-queued" in worker.log()
            assert client.post("/threads", json={}).status_code == 200
        _no_unhandled_errors(api, worker)
    finally:
        for proc in server_process.started:
            proc.stop()
        scaleout.drop_prefix(prefix)
        pg.remove()
