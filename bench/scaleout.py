"""Scale-out figures (PostgreSQL + Redis), printed, not asserted.

    python bench/scaleout.py [--runs 300] [--clients 32] [--threads 100000] [--searches 200]

Needs the machine's PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379);
starts them if they are down, and works in a fresh database it drops at the end.

  * runs/s through one API process (`serve --no-jobs`) with 1, then 2 `graphdock worker`
    processes: N clients each create a thread and wait for a run of the `agent` graph
    (tests/app), in a loop; beside it, the CPU time per run of the API and the workers;
  * threads search by metadata over 100,000 threads (bulk-inserted with SQL), p50/p95 of
    `POST /threads/search {"metadata": {"owner": ...}}` (100 matches each, GIN index).
"""

from __future__ import annotations

import argparse
import asyncio
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


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def runs_per_second(
    url: str, runs: int, clients: int, pids: dict[str, list[int]]
) -> tuple[float, dict[str, float]]:
    """Runs/s, and CPU milliseconds per run of each kind of process (`pids`): a figure that a
    busy machine disturbs far less than the rate."""
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
        start = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        rate = runs / (time.perf_counter() - start)
        per_run = {
            kind: (sum(map(cpu_seconds, group)) - cpu[kind]) * 1000 / runs
            for kind, group in pids.items()
        }
        return rate, per_run


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    scaleout.ensure_services()
    url = scaleout.create_database(TEST_APP)
    prefix = scaleout.new_prefix()
    tmp = Path(tempfile.mkdtemp(prefix="graphdock-bench-"))
    shared = {"backend": "postgres", "database_url": url, "redis_prefix": prefix, "env": ENV}
    procs: list[ServerProcess] = []
    try:
        api = ServerProcess(tmp / "api", extra_args=["--no-jobs"], **shared).start()
        procs.append(api)
        print(f"graphdock scale-out bench: {url} + Redis, graph {GRAPH!r}", flush=True)
        for n_workers in (1, 2):
            procs.append(ServerProcess(tmp / f"w{n_workers}", command="worker", **shared).start())
            pids = {"API": [api.proc.pid], "workers": [p.proc.pid for p in procs[1:]]}
            rate, cpu = asyncio.run(runs_per_second(api.url, args.runs, args.clients, pids))
            print(
                f"  runs/s, {n_workers} worker process(es), {args.clients} clients: {rate:7.1f}"
                f"   (CPU per run: API {cpu['API']:.1f} ms, workers {cpu['workers']:.1f} ms)",
                flush=True,
            )
        start = time.perf_counter()
        bulk_threads(url, args.threads)
        print(f"  bulk-inserted {args.threads} threads in {time.perf_counter() - start:.1f}s")
        latencies, found = asyncio.run(search_latency(api.url, args.searches))
        print(
            f"  threads search by metadata over {args.threads} threads: "
            f"p50 {statistics.median(latencies):.1f} ms, p95 {pct(latencies, 0.95):.1f} ms "
            f"({found / args.searches:.0f} results per search)",
            flush=True,
        )
    finally:
        for proc in reversed(procs):
            proc.stop()
        scaleout.drop_database(url)
        scaleout.drop_prefix(prefix)


if __name__ == "__main__":
    main()
