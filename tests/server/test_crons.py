"""Crons through the official SDK against a real server, and the scheduler in-process.

The scheduler tests at the bottom drive `CronScheduler.tick(now=...)` with a chosen
clock, so a minutely schedule, a downtime catch-up and two schedulers racing on one
database are checked in milliseconds instead of minutes.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from langgraph_sdk.errors import NotFoundError

from graphdock.server.services.graphs import system_assistant_id
from tests.support.receiver import Receiver
from tests.support.server import TEST_APP

AGENT = system_assistant_id("agent")
HI = {"messages": [{"role": "user", "content": "cron"}]}
CRON_KEYS = [
    "cron_id",
    "assistant_id",
    "thread_id",
    "user_id",
    "end_time",
    "schedule",
    "timezone",
    "payload",
    "next_run_date",
    "metadata",
    "on_run_completed",
    "enabled",
    "created_at",
    "updated_at",
]
BAD_SCHEDULE = (
    "Invalid cron schedule: 'not a cron'. Reason: Invalid cron schedule. Ensure the schedule "
    "uses the standard cron format (minute hour day_of_month month day_of_week). "
    "Example: '*/5 * * * *' for every 5 minutes."
)


@pytest.fixture
async def api(graphdock_server):
    async with httpx.AsyncClient(base_url=graphdock_server, timeout=30) as client:
        yield client


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def until(probe, accept, timeout: float = 10.0, every: float = 0.1):
    """Poll `probe()` until `accept(value)`; the last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if accept(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(every)


def when(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


# ---------------------------------------------------------------------------- shapes


async def test_stateless_cron_shape(sdk, unique):
    before = datetime.now(UTC)
    cron = await sdk.crons.create(
        "agent", schedule="*/5 * * * *", input=HI, metadata={"marker": unique}
    )
    assert list(cron) == CRON_KEYS
    assert cron["assistant_id"] == AGENT  # the graph name resolves to its system assistant
    assert cron["thread_id"] is None and cron["user_id"] == "" and cron["end_time"] is None
    assert cron["timezone"] is None and cron["enabled"] is True
    assert cron["on_run_completed"] == "delete"
    assert cron["metadata"] == {"marker": unique}
    # The payload is the request as sent, assistant resolved and cron_id added to config.
    assert cron["payload"] == {
        "schedule": "*/5 * * * *",
        "input": HI,
        "metadata": {"marker": unique},
        "assistant_id": AGENT,
        "config": {"configurable": {"cron_id": cron["cron_id"]}},
    }
    nxt = when(cron["next_run_date"])
    assert nxt > before and nxt - before <= timedelta(minutes=5)
    assert nxt.minute % 5 == 0 and nxt.second == 0 and nxt.microsecond == 0
    assert cron["next_run_date"].endswith("+00:00") and "." not in cron["next_run_date"]
    assert cron["created_at"] == cron["updated_at"]


async def test_cron_get_over_http(api, unique):  # the SDK (0.4.14) has no crons.get
    created = (
        await api.post(
            "/runs/crons",
            json={"assistant_id": "agent", "schedule": "0 * * * *", "metadata": {"m": unique}},
        )
    ).json()
    got = await api.get(f"/runs/crons/{created['cron_id']}")
    assert got.status_code == 200 and got.json() == created
    assert list(got.json()) == CRON_KEYS


async def test_timezone_end_time_and_thread_cron(sdk, api):
    body = {
        "assistant_id": "schemas",
        "schedule": "0 9 * * 1",
        "timezone": "America/New_York",
        "end_time": "2030-01-01T00:00:00Z",
        "on_run_completed": "keep",
        "enabled": False,
        "input": {"question": "q"},
        "context": {"model_name": "m"},
    }
    cron = (await api.post("/runs/crons", json=body)).json()
    assert cron["end_time"] == "2030-01-01T00:00:00Z"  # echoed exactly as sent
    assert cron["timezone"] == "America/New_York" and cron["enabled"] is False
    assert cron["on_run_completed"] == "keep"
    assert list(cron["payload"]) == [*body, "config"]  # the order it was sent in
    assert cron["payload"]["context"] == {"model_name": "m"}
    # 9 am on the next Monday in New York, given in UTC.
    ny = datetime.now(ZoneInfo("America/New_York"))
    day = ny.replace(hour=9, minute=0, second=0, microsecond=0)
    while day.weekday() != 0 or day <= ny:
        day = (day + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    assert when(cron["next_run_date"]) == day.astimezone(UTC)

    thread = await sdk.threads.create()
    tc = await sdk.crons.create_for_thread(
        thread["thread_id"], "agent", schedule="* * * * *", input=HI, multitask_strategy="enqueue"
    )
    assert list(tc) == CRON_KEYS
    assert tc["thread_id"] == thread["thread_id"] and tc["on_run_completed"] is None
    assert tc["payload"]["multitask_strategy"] == "enqueue"
    assert when(tc["next_run_date"]).second == 0


async def test_six_fields_mean_seconds_last(sdk):
    thread = await sdk.threads.create()
    sent = datetime.now(UTC)
    cron = await sdk.crons.create_for_thread(
        thread["thread_id"], "agent", schedule="* * * * * */10", enabled=False
    )
    answered = datetime.now(UTC)
    nxt = when(cron["next_run_date"])
    assert nxt.second % 10 == 0
    # the next multiple of ten seconds after the moment the server computed it
    assert sent < nxt <= answered + timedelta(seconds=10)


async def test_create_errors(api):
    async def post(path, body):
        r = await api.post(path, json=body)
        return r.status_code, r.json()

    ok = {"assistant_id": "agent", "schedule": "* * * * *"}
    assert await post("/runs/crons", {**ok, "schedule": "not a cron"}) == (
        422,
        {"detail": BAD_SCHEDULE},
    )
    assert await post("/runs/crons", {**ok, "timezone": "Mars/Base"}) == (
        422,
        {
            "detail": "Invalid timezone: 'Mars/Base'. Use IANA timezone format (e.g. 'America/New_York')."
        },
    )
    assert await post("/runs/crons", {**ok, "assistant_id": "nope"}) == (
        404,
        {"detail": "Assistant 'nope' not found"},
    )
    status, body = await post("/runs/crons", {"schedule": "* * * * *"})
    assert status == 422 and "assistant_id" in body["detail"]  # the reference answers 500
    status, body = await post("/runs/crons", {**ok, "on_run_completed": "bogus"})
    assert status == 422 and "on_run_completed" in body["detail"]
    status, body = await post("/runs/crons", {**ok, "end_time": "next tuesday"})
    assert status == 422 and "end_time" in body["detail"] and "next tuesday" in body["detail"]
    status, body = await post("/runs/crons", {**ok, "schedule": "0 0 31 2 *"})
    assert status == 422 and "never fires" in body["detail"]
    status, body = await post(
        "/runs/crons", {**ok, "config": {"configurable": {"a": 1}}, "context": {"b": 2}}
    )
    assert status == 400 and "both configurable and context" in body["detail"]
    missing = "657d3577-424a-44d3-a3ce-eb9f52db4a10"
    assert await post(f"/threads/{missing}/runs/crons", ok) == (
        404,
        {
            "detail": f"Thread with ID '{missing}' not found. Please verify the ID is correct and "
            "the thread hasn't been deleted or expired."
        },
    )
    assert await post("/threads/nope/runs/crons", ok) == (
        422,
        {"detail": "Invalid thread ID: must be a UUID"},
    )


async def test_get_patch_delete_errors(api, sdk):
    unknown = "72c54177-f05d-468e-a046-9af727406f63"
    r = await api.get(f"/runs/crons/{unknown}")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    r = await api.get("/runs/crons/not-a-uuid")
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid cron ID: must be a UUID"})
    r = await api.patch(f"/runs/crons/{unknown}", json={"enabled": False})
    assert (r.status_code, r.json()) == (404, {"detail": f"Cron '{unknown}' not found"})
    cron = await sdk.crons.create("agent", schedule="0 * * * *")
    r = await api.patch(f"/runs/crons/{cron['cron_id']}", json={"schedule": "bad"})
    assert r.status_code == 422 and r.json()["detail"].startswith("Invalid cron schedule: 'bad'.")
    r = await api.patch(f"/runs/crons/{cron['cron_id']}", json={"timezone": "Nowhere/Land"})
    assert r.status_code == 422 and "Nowhere/Land" in r.json()["detail"]
    r = await api.delete(f"/runs/crons/{cron['cron_id']}")
    assert r.status_code == 204 and r.content == b""
    r = await api.delete(f"/runs/crons/{cron['cron_id']}")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    with pytest.raises(NotFoundError):
        await sdk.crons.delete(cron["cron_id"])


async def test_patch_merges_metadata_and_payload(sdk, api, unique):
    cron = await sdk.crons.create(
        "agent", schedule="*/5 * * * *", input=HI, metadata={"k": "v", "marker": unique}
    )
    patched = await sdk.crons.update(
        cron["cron_id"], schedule="0 * * * *", enabled=False, metadata={"k2": "v2"}
    )
    assert list(patched) == CRON_KEYS
    assert patched["schedule"] == "0 * * * *" and patched["enabled"] is False
    assert patched["metadata"] == {"k": "v", "marker": unique, "k2": "v2"}
    # Patched fields land in the payload as sent (metadata there is replaced, as the reference does).
    assert patched["payload"]["schedule"] == "0 * * * *"
    assert patched["payload"]["enabled"] is False
    assert patched["payload"]["metadata"] == {"k2": "v2"}
    assert patched["payload"]["config"] == {"configurable": {"cron_id": cron["cron_id"]}}
    nxt = when(patched["next_run_date"])
    assert nxt.minute == 0 and nxt.second == 0 and nxt > datetime.now(UTC)
    assert patched["created_at"] == cron["created_at"]
    assert when(patched["updated_at"]) > when(cron["updated_at"])
    # end_time: set, then cleared with an explicit null.
    r = await api.patch(
        f"/runs/crons/{cron['cron_id']}", json={"end_time": "2031-02-03T04:05:06+00:00"}
    )
    assert r.json()["end_time"] == "2031-02-03T04:05:06+00:00"
    r = await api.patch(f"/runs/crons/{cron['cron_id']}", json={"end_time": None})
    assert r.json()["end_time"] is None and r.json()["payload"]["end_time"] is None
    assert (await api.get(f"/runs/crons/{cron['cron_id']}")).json() == r.json()
    # A new config keeps the cron_id.
    r = await api.patch(f"/runs/crons/{cron['cron_id']}", json={"config": {"tags": ["x"]}})
    assert r.json()["payload"]["config"] == {
        "tags": ["x"],
        "configurable": {"cron_id": cron["cron_id"]},
    }


async def test_search_and_count(sdk, api, unique):
    t1 = (await sdk.threads.create())["thread_id"]
    a = await sdk.crons.create_for_thread(
        t1, "agent", schedule="0 0 * * *", metadata={"marker": unique}
    )
    b = await sdk.crons.create(
        "agent", schedule="0 12 * * *", metadata={"marker": unique}, enabled=False
    )
    c = await sdk.crons.create("fail", schedule="0 6 * * *", metadata={"marker": unique})
    mine = {"metadata": {"marker": unique}}

    found = await sdk.crons.search(metadata={"marker": unique})
    assert [x["cron_id"] for x in found] == [
        c["cron_id"],
        b["cron_id"],
        a["cron_id"],
    ]  # newest first
    assert all(list(x) == CRON_KEYS for x in found)
    assert [x["cron_id"] for x in await sdk.crons.search(thread_id=t1)] == [a["cron_id"]]
    by_agent = await sdk.crons.search(assistant_id=AGENT, metadata={"marker": unique})
    assert {x["cron_id"] for x in by_agent} == {a["cron_id"], b["cron_id"]}
    disabled = await sdk.crons.search(enabled=False, metadata={"marker": unique})
    assert [x["cron_id"] for x in disabled] == [b["cron_id"]]

    r = await api.post(
        "/runs/crons/search",
        json={
            **mine,
            "limit": 2,
            "sort_by": "next_run_date",
            "sort_order": "asc",
            "select": ["cron_id", "next_run_date"],
        },
    )
    assert r.headers["x-pagination-total"] == "3" and r.headers["x-pagination-next"] == "2"
    page = r.json()
    assert [list(x) for x in page] == [["cron_id", "next_run_date"]] * 2
    dates = [when(x["next_run_date"]) for x in page]
    assert dates == sorted(dates)
    r = await api.post("/runs/crons/search", json={**mine, "limit": 2, "offset": 2})
    assert r.headers["x-pagination-total"] == "3" and "x-pagination-next" not in r.headers
    assert len(r.json()) == 1

    r = await api.post("/runs/crons/search", json={"assistant_id": "agent"})
    assert (r.status_code, r.json()) == (422, {"detail": "Invalid assistant ID: must be a UUID"})
    r = await api.post("/runs/crons/search", json={"select": ["bogus"]})
    assert r.status_code == 422 and "select" in r.json()["detail"]

    assert await sdk.crons.count(metadata={"marker": unique}) == 3
    assert await sdk.crons.count(thread_id=t1) == 1
    assert await sdk.crons.count(assistant_id=AGENT, metadata={"marker": unique}) == 2
    r = await api.post("/runs/crons/count", json={})
    assert r.status_code == 200 and isinstance(r.json(), int) and r.json() >= 3


# ---------------------------------------------------------------------------- firing


async def test_thread_cron_fires_every_second(sdk):
    thread = await sdk.threads.create()
    tid = thread["thread_id"]
    cron = await sdk.crons.create_for_thread(tid, "agent", schedule="* * * * * *", input=HI)
    runs = await until(lambda: sdk.runs.list(tid), lambda rs: len(rs) >= 2, timeout=8)
    assert len(runs) >= 2, "a schedule due every second fired fewer than 2 runs in 8 s"
    await sdk.crons.delete(cron["cron_id"])
    finished = await until(
        lambda: sdk.runs.list(tid), lambda rs: all(r["status"] == "success" for r in rs)
    )
    assert all(r["status"] == "success" for r in finished)
    run = await sdk.runs.get(tid, finished[-1]["run_id"])
    assert run["kwargs"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
    assert run["kwargs"]["input"] == HI
    assert "cron_id" not in run["metadata"]  # as the reference: only in configurable
    state = await sdk.threads.get_state(tid)
    assert state["values"]["count"] == 2 * len(finished)  # each firing ran the graph once
    # Deleted: no more firings.
    settled = len(finished)
    await asyncio.sleep(2.2)
    assert len(await sdk.runs.list(tid)) == settled


async def test_disabled_and_ended_crons_do_not_fire_until_enabled(sdk):
    t_disabled = (await sdk.threads.create())["thread_id"]
    t_ended = (await sdk.threads.create())["thread_id"]
    off = await sdk.crons.create_for_thread(
        t_disabled, "agent", schedule="* * * * * *", input=HI, enabled=False
    )
    ended = await sdk.crons.create_for_thread(
        t_ended, "agent", schedule="* * * * * *", input=HI,
        end_time=datetime.now(UTC) - timedelta(seconds=1),
    )  # fmt: skip
    await asyncio.sleep(2.2)
    assert await sdk.runs.list(t_disabled) == []
    assert await sdk.runs.list(t_ended) == []
    assert (await sdk.crons.search(thread_id=t_ended))[0]["next_run_date"] is None
    await sdk.crons.update(off["cron_id"], enabled=True)
    started = time.monotonic()
    runs = await until(lambda: sdk.runs.list(t_disabled), lambda rs: len(rs) >= 1, timeout=5)
    assert runs, "the re-enabled cron did not fire"
    assert time.monotonic() - started < 3
    await sdk.crons.delete(off["cron_id"])
    await sdk.crons.delete(ended["cron_id"])


async def test_stateless_crons_delete_or_keep_their_threads(sdk, receiver, unique):
    hook = f"{receiver.url}/cron"
    gone = await sdk.crons.create(
        "agent",
        schedule="* * * * * *",
        input=HI,
        webhook=hook,
        metadata={"which": f"delete-{unique}"},
    )
    kept = await sdk.crons.create(
        "agent", schedule="* * * * * *", input=HI, webhook=hook,
        metadata={"which": f"keep-{unique}"}, on_run_completed="keep",
    )  # fmt: skip

    def fired(cron_id):
        return [
            r["body"]
            for r in receiver.requests
            if r["body"]["kwargs"]["config"]["configurable"].get("cron_id") == cron_id
        ]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (fired(gone["cron_id"]) and fired(kept["cron_id"])):
        await asyncio.sleep(0.1)
    await sdk.crons.delete(gone["cron_id"])
    await sdk.crons.delete(kept["cron_id"])
    deleted_runs, kept_runs = fired(gone["cron_id"]), fired(kept["cron_id"])
    assert deleted_runs and kept_runs, "both crons should have fired within 10 s"
    assert all(r["status"] == "success" for r in deleted_runs + kept_runs)
    # Each firing ran on a thread of its own.
    assert len({r["thread_id"] for r in kept_runs}) == len(kept_runs)
    for run in deleted_runs:

        async def status(tid=run["thread_id"]):
            try:
                return (await sdk.threads.get(tid))["status"]
            except NotFoundError:
                return None

        assert await until(status, lambda s: s is None, timeout=5) is None
    # A firing that started just before its cron was deleted may still be running: its
    # thread goes when it ends.
    leftover = await until(
        lambda: sdk.threads.search(metadata={"which": f"delete-{unique}"}),
        lambda threads: threads == [],
        timeout=10,
    )
    assert leftover == []
    for run in kept_runs:
        thread = await sdk.threads.get(run["thread_id"])
        assert thread["metadata"]["which"] == f"keep-{unique}"
        assert thread["metadata"]["graph_id"] == "agent"


async def test_disabled_routes(server_process, tmp_path):
    config = json.loads(TEST_APP.read_text())
    app_dir = TEST_APP.parent
    config["dependencies"] = [str(app_dir)]
    config["graphs"] = {"agent": str(app_dir / "graph.py") + ":graph"}
    config.pop("store", None)
    config["http"] = {"disable_crons": True, "disable_store": True}
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    server = server_process(config=path)
    async with httpx.AsyncClient(base_url=server.url) as client:
        for method, url, body in (
            ("POST", "/runs/crons", {"assistant_id": "agent", "schedule": "* * * * *"}),
            ("POST", "/runs/crons/search", {}),
            ("GET", "/store/items?namespace=a&key=b", None),
            ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {}}),
        ):
            r = await client.request(method, url, json=body)
            assert (r.status_code, r.json()) == (404, {"detail": "Not Found"}), url
        assert (await client.get("/ok")).status_code == 200


@pytest.mark.postgres_only
async def test_two_servers_on_one_database_fire_each_due_time_once(server_process):
    """Two server processes share one PostgreSQL: both run a scheduler, each second fires once."""
    from langgraph_sdk import get_client

    first = server_process()
    second = server_process(database_url=first.database_url, redis_prefix=first.redis_prefix)
    a = get_client(url=first.url, api_key=None)
    b = get_client(url=second.url, api_key=None)
    tid = (await a.threads.create())["thread_id"]
    start = time.time()
    cron = await a.crons.create_for_thread(tid, "agent", schedule="* * * * * *", input=HI)
    await asyncio.sleep(4.5)
    await b.crons.delete(cron["cron_id"])  # the other process sees the same crons
    end = time.time()
    due = int(end) - int(start)  # the whole seconds between creation and deletion
    runs = await until(
        lambda: a.runs.list(tid, limit=100),
        lambda rs: rs and all(r["status"] == "success" for r in rs),
        timeout=15,
    )
    assert all(r["status"] == "success" for r in runs)
    # Firing twice per due time would give about 2 * due runs.
    assert due - 2 <= len(runs) <= due, f"{len(runs)} runs for {due} due times"


# ---------------------------------------------------------------------------- scheduler, in-process


class RecordingRuns:
    """Stands in for RunService: records each firing and yields, so schedulers interleave."""

    def __init__(self):
        self.created: list[tuple[str | None, dict, object]] = []

    async def create(self, thread_id, spec, ctx, *, thread_metadata=None):
        await asyncio.sleep(0)
        self.created.append((thread_id, spec, ctx))
        return {"run_id": f"run-{len(self.created)}", "thread_id": thread_id}


def _cron_record(cron_id: str, schedule: str, next_run_date: datetime, **extra) -> dict:
    now = datetime.now(UTC)
    return {
        "cron_id": cron_id,
        "assistant_id": AGENT,
        "thread_id": None,
        "user_id": "",
        "end_time": None,
        "end_time_raw": None,
        "schedule": schedule,
        "timezone": None,
        "payload": {
            "assistant_id": AGENT,
            "schedule": schedule,
            "config": {"configurable": {"cron_id": cron_id}},
        },
        "next_run_date": next_run_date,
        "metadata": {},
        "on_run_completed": "delete",
        "enabled": True,
        "created_at": now,
        "updated_at": now,
        **extra,
    }


def _storage(path: Path):
    from graphdock.server.adapters.sql.storage import SqlStorage
    from graphdock.server.adapters.sqlite.engine import create_sqlite_engine

    return SqlStorage(create_sqlite_engine(path))


@pytest.fixture
async def two_processes(tmp_path):
    """Two storages on one SQLite file, each with its own engine and lock, as two server
    processes would have, and a scheduler on each."""
    from graphdock.server.adapters.sqlite.engine import migrate_sqlite
    from graphdock.server.services.crons import CronService
    from graphdock.server.services.scheduler import CronScheduler

    path = tmp_path / "shared.sqlite"
    migrate_sqlite(path)
    runs = RecordingRuns()
    storages = [_storage(path), _storage(path)]
    schedulers = [
        CronScheduler(s, CronService(s, assistants=None, runs=runs), interval=3600)
        for s in storages
    ]
    yield storages, schedulers, runs
    for s in storages:
        await s.close()


async def _next_run_date(storage, cron_id):
    async with storage.begin() as tx:
        return (await tx.get_cron(cron_id))["next_run_date"]


async def test_two_schedulers_fire_each_due_time_once(two_processes):
    storages, (a, b), runs = two_processes
    t0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    ids = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(5)]
    async with storages[0].begin() as tx:
        for cron_id in ids:
            await tx.insert_cron(_cron_record(cron_id, "* * * * * *", t0))
    fired_a = fired_b = 0
    for second in range(20):
        now = t0 + timedelta(seconds=second, milliseconds=100)
        got_a, got_b = await asyncio.gather(a.tick(now), b.tick(now))
        fired_a, fired_b = fired_a + got_a, fired_b + got_b
        assert got_a + got_b == len(ids), f"second {second}: {got_a}+{got_b} firings"
    assert fired_a + fired_b == 20 * len(ids) == len(runs.created)
    assert fired_a > 0 and fired_b > 0  # both really competed for the same crons
    per_cron = {cron_id: 0 for cron_id in ids}
    for _, _, ctx in runs.created:
        per_cron[ctx.headers["cron_id"]] += 1
    assert per_cron == dict.fromkeys(ids, 20)
    assert await _next_run_date(storages[1], ids[0]) == t0 + timedelta(seconds=20)


async def test_catch_up_after_downtime_fires_once(two_processes):
    storages, (a, _), runs = two_processes
    t0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    cron_id = "00000000-0000-4000-8000-0000000000aa"
    async with storages[0].begin() as tx:
        await tx.insert_cron(_cron_record(cron_id, "* * * * *", t0))
    later = t0 + timedelta(hours=3, seconds=20)  # 180 missed minutes
    assert await a.tick(later) == 1
    assert await a.tick(later) == 0
    assert len(runs.created) == 1
    assert await _next_run_date(storages[0], cron_id) == datetime(2030, 1, 1, 15, 1, tzinfo=UTC)


async def test_end_time_stops_and_disabled_never_fires(two_processes):
    storages, (a, _), runs = two_processes
    t0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    ending = "00000000-0000-4000-8000-0000000000b1"
    disabled = "00000000-0000-4000-8000-0000000000b2"
    async with storages[0].begin() as tx:
        await tx.insert_cron(
            _cron_record(ending, "* * * * *", t0, end_time=t0 + timedelta(seconds=30))
        )
        await tx.insert_cron(_cron_record(disabled, "* * * * *", t0, enabled=False))
    assert await a.tick(t0) == 1  # due at t0 (before its end): fires, and has no next date
    assert await _next_run_date(storages[0], ending) is None
    assert await a.tick(t0 + timedelta(minutes=5)) == 0
    assert await _next_run_date(storages[0], disabled) == t0
    assert [ctx.headers["cron_id"] for _, _, ctx in runs.created] == [ending]
    _, spec, _ = runs.created[0]
    assert spec.on_completion == "delete" and "schedule" not in spec.fields()
    assert spec.config.configurable is None  # cron_id travels beside it


async def test_minutely_cron_fires_a_real_run_in_process(tmp_path):
    """`* * * * *` through the real run engine, without waiting for a minute to turn."""
    from graphdock.server.app import open_services
    from graphdock.server.services.context import ANONYMOUS
    from graphdock.server.settings import Settings

    settings = Settings(config_path=TEST_APP, data_dir=tmp_path / "data", cron_interval=3600)
    async with open_services(settings) as services:
        thread, _ = await services.threads.create({}, ANONYMOUS)
        tid = thread["thread_id"]
        cron = await services.crons.create(
            tid, {"assistant_id": "agent", "schedule": "* * * * *", "input": HI}, ANONYMOUS
        )
        due = when(cron["next_run_date"])
        assert due.second == 0
        assert await services.scheduler.tick(due + timedelta(milliseconds=5)) == 1
        assert await services.scheduler.tick(due + timedelta(milliseconds=5)) == 0
        [run] = await services.runs.list(tid, ANONYMOUS, limit=10, offset=0, status=None)
        await services.runs.wait_until_done(run, timeout=20)
        [run] = await services.runs.list(tid, ANONYMOUS, limit=10, offset=0, status=None)
        assert run["status"] == "success"
        assert run["kwargs"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
        state = await services.threads.get(tid, ANONYMOUS)
        assert state["values"]["count"] == 2
        after = await services.crons.get(cron["cron_id"], ANONYMOUS)
        assert when(after["next_run_date"]) == due + timedelta(minutes=1)
