"""Scale-out figures (PostgreSQL + Redis), printed, not asserted.

    python bench/scaleout.py [--runs 300] [--clients 32] [--events 50000] [--samples 100]
                             [--threads 100000] [--searches 200] [--json PATH]

Needs the machine's PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379);
starts them if they are down, and works in a fresh database it drops at the end.

  * runs/s through one API process (`serve --no-jobs`) with 1, then 2 `graphdock worker`
    processes: N clients each create a thread and wait for a run of the `agent` graph
    (tests/app), in a loop; beside it, the CPU time per run of the API and the workers, and
    with one worker the round trips per run each process makes to PostgreSQL and to Redis;
  * custom events/s on one stream (`custom` graph, `stream_mode=custom`) through the API and
    one worker, with the worker's Redis round trips per event, beside the same on an embedded
    server;
  * time to the first event and to the first custom event of a streamed run, beside the
    same on an embedded server (`graphdock serve` on SQLite, in-process bus);
  * threads search by metadata over 100,000 threads (bulk-inserted with SQL), p50/p95 of
    `POST /threads/search {"metadata": {"owner": ...}}` (100 matches each, GIN index).

Round trips are counted inside the server processes by bench/probe/sitecustomize.py (on
PYTHONPATH for them only): every write redis-py sends (a command, a pipeline, a script call)
and every exchange psycopg waits on (a statement, a COMMIT, a pipeline sync).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import scaleout  # noqa: E402
from tests.support.server import TEST_APP, ServerProcess  # noqa: E402

GRAPH = "agent"
INPUT = {"messages": [{"role": "user", "content": "hi"}]}
ENV = {"GRAPHDOCK_AUTH": "off", "GRAPHDOCK_PG_POOL_SIZE": "10"}
PROBE = ROOT / "bench" / "probe"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Counts:
    """The round trips the probe counted in the server processes (see the docstring)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        path = os.pathsep.join(filter(None, [str(PROBE), os.environ.get("PYTHONPATH")]))
        return {"PYTHONPATH": path, "GRAPHDOCK_BENCH_COUNTS": str(self.folder)}

    def of(self, pid: int) -> dict[str, int]:
        time.sleep(0.15)  # the probe writes every 50 ms
        try:
            return json.loads((self.folder / f"{pid}.json").read_text())
        except (OSError, ValueError):
            return {"redis": 0, "postgres": 0}


async def runs_per_second(
    url: str, runs: int, clients: int, pids: dict[str, list[int]], counts: Counts
) -> tuple[float, dict[str, float], dict[str, dict[str, float]]]:
    """Runs/s; CPU milliseconds per run of each kind of process (`pids`): a figure that a
    busy machine disturbs far less than the rate; and round trips per run of each kind."""
    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        remaining = runs

        async def loop() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                tid = (await client.post("/threads", json={})).json()["thread_id"]
                r = await client.post(
                    f"/threads/{tid}/runs/wait", json={"assistant_id": GRAPH, "input": INPUT}
                )
                r.raise_for_status()

        await asyncio.gather(*(loop() for _ in range(min(clients, 8))))  # warm-up
        remaining = runs
        cpu = {kind: sum(map(cpu_seconds, group)) for kind, group in pids.items()}
        trips = {kind: [counts.of(p) for p in group] for kind, group in pids.items()}
        start = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        rate = runs / (time.perf_counter() - start)
        per_run = {
            kind: (sum(map(cpu_seconds, group)) - cpu[kind]) * 1000 / runs
            for kind, group in pids.items()
        }
        trips_per_run = {
            kind: {
                db: sum(counts.of(p)[db] - b[db] for p, b in zip(group, trips[kind], strict=True))
                / runs
                for db in ("postgres", "redis")
            }
            for kind, group in pids.items()
        }
        return rate, per_run, trips_per_run


async def events_per_second(url: str, events: int) -> tuple[float, int]:
    """Custom events/s on one run's stream, from the request to the stream's end."""
    body = {"assistant_id": "custom", "input": {"n": events}, "stream_mode": ["custom"]}
    count = 0
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        start = time.perf_counter()
        async with client.stream("POST", "/runs/stream", json=body) as r:
            async for line in r.aiter_lines():
                if line.startswith("event: custom"):
                    count += 1
        return count / (time.perf_counter() - start), count


async def first_events(url: str, n: int) -> tuple[list[float], list[float]]:
    """Milliseconds from the request to a streamed run's first event, and to its first
    custom event (`custom` graph, three of them)."""
    body = {"assistant_id": "custom", "input": {"n": 3}, "stream_mode": ["custom"]}
    firsts, customs = [], []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for i in range(n + 5):
            tid = (await client.post("/threads", json={})).json()["thread_id"]
            first = custom = None
            start = time.perf_counter()
            async with client.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
                async for line in r.aiter_lines():
                    if first is None and line.startswith("event:"):
                        first = (time.perf_counter() - start) * 1000
                    if custom is None and line.startswith("event: custom"):
                        custom = (time.perf_counter() - start) * 1000
            if i >= 5 and first is not None and custom is not None:  # 5 to warm up
                firsts.append(first)
                customs.append(custom)
    return firsts, customs


def bulk_threads(url: str, n: int) -> None:
    import psycopg

    with psycopg.connect(scaleout.pg_url(url.rsplit("/", 1)[1]), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO threads (thread_id, created_at, updated_at, state_updated_at, metadata,
                                 status, config, "values", interrupts, error)
            SELECT gen_random_uuid()::text, t, t, t,
                   jsonb_build_object('owner', 'user-' || (i %% 1000), 'n', i, 'kind', 'bench'),
                   'idle', '{}'::json, NULL, '{}'::json, NULL
            FROM generate_series(1, %s) AS i,
                 LATERAL (SELECT now() - make_interval(secs => i) AS t) AS times
            """,
            (n,),
        )
        conn.execute("ANALYZE threads")


async def search_latency(url: str, searches: int) -> tuple[list[float], int]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        out, found = [], 0
        for i in range(searches):
            body = {"metadata": {"owner": f"user-{(i * 37) % 1000}"}, "limit": 10}
            start = time.perf_counter()
            r = await client.post("/threads/search", json=body)
            out.append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
            found += len(r.json())
        return out, found


def first_event_figures(firsts: list[float], customs: list[float]) -> dict[str, float]:
    return {
        "first_event_ms_p50": round(statistics.median(firsts), 2),
        "first_event_ms_p95": round(pct(firsts, 0.95), 2),
        "first_custom_event_ms_p50": round(statistics.median(customs), 2),
        "first_custom_event_ms_p95": round(pct(customs, 0.95), 2),
    }


def embedded_figures(tmp: Path, samples: int, events: int) -> tuple[dict[str, float], float]:
    """The same first-event figures and events/s on an embedded server: SQLite, in-process
    bus."""
    server = ServerProcess(tmp / "embedded", env=ENV).start()
    try:
        firsts = first_event_figures(*asyncio.run(first_events(server.url, samples)))
        return firsts, asyncio.run(events_per_second(server.url, events))[0]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    scaleout.ensure_services()
    url = scaleout.create_database(TEST_APP)
    prefix = scaleout.new_prefix()
    tmp = Path(tempfile.mkdtemp(prefix="graphdock-bench-"))
    counts = Counts(tmp / "counts")
    env = {**ENV, **counts.env()}
    shared = {"backend": "postgres", "database_url": url, "redis_prefix": prefix, "env": env}
    procs: list[ServerProcess] = []
    figures: dict[str, object] = {}

    def show(line: str) -> None:
        print(line, flush=True)

    try:
        api = ServerProcess(tmp / "api", extra_args=["--no-jobs"], **shared).start()
        procs.append(api)
        show(f"graphdock scale-out bench: {url} + Redis, graph {GRAPH!r}")
        for n_workers in (1, 2):
            procs.append(ServerProcess(tmp / f"w{n_workers}", command="worker", **shared).start())
            pids = {"API": [api.proc.pid], "workers": [p.proc.pid for p in procs[1:]]}
            rate, cpu, trips = asyncio.run(
                runs_per_second(api.url, args.runs, args.clients, pids, counts)
            )
            show(
                f"  runs/s, {n_workers} worker process(es), {args.clients} clients: {rate:7.1f}"
                f"   (CPU per run: API {cpu['API']:.1f} ms, workers {cpu['workers']:.1f} ms)"
            )
            run_figures: dict[str, object] = {
                f"runs_per_s_{args.clients}_clients": round(rate, 1),
                "api_cpu_ms_per_run": round(cpu["API"], 2),
                "workers_cpu_ms_per_run": round(cpu["workers"], 2),
            }
            if n_workers == 1:
                show(
                    "    round trips per run: PostgreSQL "
                    f"API {trips['API']['postgres']:.1f} + worker {trips['workers']['postgres']:.1f}"
                    f", Redis API {trips['API']['redis']:.1f} + worker {trips['workers']['redis']:.1f}"
                )
                run_figures |= {
                    "postgres_round_trips_per_run_api": round(trips["API"]["postgres"], 2),
                    "postgres_round_trips_per_run_worker": round(trips["workers"]["postgres"], 2),
                    "redis_round_trips_per_run_api": round(trips["API"]["redis"], 2),
                    "redis_round_trips_per_run_worker": round(trips["workers"]["redis"], 2),
                }
                worker = procs[1].proc.pid
                before = counts.of(worker)["redis"]
                eps, n_events = asyncio.run(events_per_second(api.url, args.events))
                per_event = (counts.of(worker)["redis"] - before) / max(1, n_events)
                firsts = first_event_figures(*asyncio.run(first_events(api.url, args.samples)))
                embedded, embedded_eps = embedded_figures(tmp, args.samples, args.events)
                show(
                    f"  custom events/s on one stream through Redis: {eps:8.0f}"
                    f"   ({n_events} events; worker's Redis round trips per event {per_event:.3f})"
                    f"; embedded {embedded_eps:.0f}"
                )
                show(
                    "  time to first event, p50/p95 ms: scale-out "
                    f"{firsts['first_event_ms_p50']:.1f}/{firsts['first_event_ms_p95']:.1f}, "
                    f"embedded {embedded['first_event_ms_p50']:.1f}/{embedded['first_event_ms_p95']:.1f}"
                    "; first custom event: scale-out "
                    f"{firsts['first_custom_event_ms_p50']:.1f}/{firsts['first_custom_event_ms_p95']:.1f}, "
                    f"embedded {embedded['first_custom_event_ms_p50']:.1f}/{embedded['first_custom_event_ms_p95']:.1f}"
                )
                figures["events_one_stream"] = {
                    "custom_events_per_s": round(eps),
                    "events_counted": n_events,
                    "worker_redis_round_trips_per_event": round(per_event, 4),
                    "embedded_custom_events_per_s": round(embedded_eps),
                }
                figures["first_event"] = {"scale_out": firsts, "embedded": embedded}
            figures[f"runs_{n_workers}_worker"] = run_figures
        start = time.perf_counter()
        bulk_threads(url, args.threads)
        show(f"  bulk-inserted {args.threads} threads in {time.perf_counter() - start:.1f}s")
        latencies, found = asyncio.run(search_latency(api.url, args.searches))
        show(
            f"  threads search by metadata over {args.threads} threads: "
            f"p50 {statistics.median(latencies):.1f} ms, p95 {pct(latencies, 0.95):.1f} ms "
            f"({found / args.searches:.0f} results per search)"
        )
        figures[f"threads_search_{args.threads}_threads"] = {
            "p50_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(pct(latencies, 0.95), 2),
        }
    finally:
        for proc in reversed(procs):
            proc.stop()
        scaleout.drop_database(url)
        scaleout.drop_prefix(prefix)
    figures["cpus"] = os.cpu_count()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
