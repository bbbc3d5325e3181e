"""Run-engine figures on the bundled examples, printed, not asserted.

    python bench/run.py [--runs 800] [--clients 16] [--events 50000] [--memory-runs 10000]

Starts `graphdock serve` on a fresh data dir and measures, through HTTP:
  * create-thread + wait, p50/p95, one client
  * time to first SSE event, p50/p95
  * runs/s with N concurrent clients (create thread + wait each)
  * custom events/s on one stream
  * the same two over the v3 thread protocol: time to the first `messages` delta (beside
    the classic stream's first `messages` token) and custom events/s on one subscription
and, beside the runs/s, the floor: the same graph run in-process with `ainvoke` at the same
concurrency, in a separate process, on the checkpointer the server uses; and the overhead
per run: the server's CPU time per run (from /proc, over the same runs) minus the floor's.
Throughput and floor are measured for both ways the checkpointer can reach SQLite: inline
(the default) and on aiosqlite's thread (langgraph's stock AsyncSqliteSaver).

Last, the server's resident memory before and after `--memory-runs` runs (0 skips it), with
the default event memory budget and with a small one, beside what the event store holds.
Then runs/s with encryption at rest on (the built-in AES, and a custom `Encryption`
sealing every value with Fernet) beside it off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

EXAMPLES = ROOT / "examples" / "langgraph.json"
GRAPH = "chat"
INPUT = {"messages": [{"role": "user", "content": "hi"}]}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def wait_latency(client: httpx.AsyncClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        tid = (await client.post("/threads", json={})).json()["thread_id"]
        r = await client.post(
            f"/threads/{tid}/runs/wait", json={"assistant_id": GRAPH, "input": INPUT}
        )
        r.raise_for_status()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def first_event_latency(client: httpx.AsyncClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        tid = (await client.post("/threads", json={})).json()["thread_id"]
        start = time.perf_counter()
        first = None
        async with client.stream(
            "POST", f"/threads/{tid}/runs/stream", json={"assistant_id": GRAPH, "input": INPUT}
        ) as r:
            async for chunk in r.aiter_bytes():
                if first is None and b"event:" in chunk:
                    first = (time.perf_counter() - start) * 1000
        out.append(first)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def throughput(
    url: str, runs: int, clients: int, *, create_threads: bool, cpu: dict | None = None
) -> float:
    """Runs/s from `clients` concurrent clients, each run on a fresh thread. With
    `create_threads` each run also pays for its thread's creation; without, the threads are
    made beforehand, as the floor's thread ids cost nothing. With `cpu` ({"pid": server
    pid}), also the server's CPU milliseconds per run over the same runs, in cpu["ms"]."""
    made: list[str] = []
    if not create_threads:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            for _ in range(runs):
                made.append((await client.post("/threads", json={})).json()["thread_id"])
    queue = list(range(runs))

    async def worker():
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            while queue:
                queue.pop()
                if create_threads:
                    tid = (await client.post("/threads", json={})).json()["thread_id"]
                else:
                    tid = made.pop()
                r = await client.post(
                    f"/threads/{tid}/runs/wait", json={"assistant_id": GRAPH, "input": INPUT}
                )
                r.raise_for_status()

    used = cpu_seconds(cpu["pid"]) if cpu is not None else 0.0
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    rate = runs / (time.perf_counter() - start)
    if cpu is not None:
        cpu["ms"] = (cpu_seconds(cpu["pid"]) - used) * 1000 / runs
    return rate


async def events_per_second(client: httpx.AsyncClient, events: int) -> tuple[float, int]:
    body = {
        "assistant_id": "research",
        "input": {"topic": "x", "progress_events": events},
        "stream_mode": ["custom"],
        "stream_subgraphs": True,
    }
    count = 0
    start = time.perf_counter()
    async with client.stream("POST", "/runs/stream", json=body) as r:
        async for line in r.aiter_lines():
            if line.startswith("event: custom"):
                count += 1
    return count / (time.perf_counter() - start), count


async def first_token_classic(client: httpx.AsyncClient, n: int) -> list[float]:
    """Time from the request to the first `messages` token of a classic run stream."""
    out = []
    body = {"assistant_id": GRAPH, "input": INPUT, "stream_mode": ["messages-tuple"]}
    for _ in range(n):
        tid = (await client.post("/threads", json={})).json()["thread_id"]
        start = time.perf_counter()
        first = None
        async with client.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
            async for line in r.aiter_lines():
                if first is None and line.startswith("event: messages"):
                    first = (time.perf_counter() - start) * 1000
        out.append(first)
    return out


async def _v3_events(client: httpx.AsyncClient, graph: str, graph_input, channels, on_event):
    """run.start on a new thread, then one subscription from its first event until the
    run's root lifecycle ends it; `on_event(line)` sees each data line."""
    tid = str(uuid.uuid4())
    command = {"id": 1, "method": "run.start", "params": {"assistant_id": graph, "input": graph_input}}  # fmt: skip
    (await client.post(f"/threads/{tid}/commands", json=command)).raise_for_status()
    body = {"channels": [*channels, "lifecycle"], "since": 0}
    async with client.stream("POST", f"/threads/{tid}/stream/events", json=body) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data: "):
                continue
            on_event(line)
            if (
                '"method":"lifecycle"' in line
                and '"namespace":[]' in line
                and ('"event":"completed"' in line or '"event":"failed"' in line)
            ):
                return


async def first_token_v3(client: httpx.AsyncClient, n: int) -> list[float]:
    """Time from run.start to the first `content-block-delta` on a v3 subscription."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        first: list[float] = []

        def seen(line: str, first=first, start=start) -> None:
            if not first and '"event":"content-block-delta"' in line:
                first.append((time.perf_counter() - start) * 1000)

        await _v3_events(client, GRAPH, INPUT, ["messages"], seen)
        out.append(first[0])
    return out


async def events_per_second_v3(client: httpx.AsyncClient, events: int) -> tuple[float, int]:
    count = 0

    def seen(line: str) -> None:
        nonlocal count
        if '"method":"custom"' in line:
            count += 1

    start = time.perf_counter()
    await _v3_events(
        client, "research", {"topic": "x", "progress_events": events}, ["custom"], seen
    )
    return count / (time.perf_counter() - start), count


FLOOR = """
import asyncio, sys, time, uuid
sys.path.insert(0, {examples!r})
from graphdock.server.adapters.sqlite.checkpointer import open_checkpointer
from chat import graph as base

async def main():
    async with open_checkpointer({db!r}, inline={inline!r}) as saver:
        graph = base.copy(update={{"checkpointer": saver}})
        queue = list(range({runs}))
        async def worker():
            while queue:
                queue.pop()
                await graph.ainvoke({input!r}, {{"configurable": {{"thread_id": str(uuid.uuid4())}}}})
        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range({clients})))
        rate = {runs} / (time.perf_counter() - start)
        print(rate, (time.process_time() - cpu) * 1000 / {runs})

asyncio.run(main())
"""

# How the checkpointer reaches SQLite (GRAPHDOCK_SQLITE_CHECKPOINTS): "inline", the default,
# runs statements on the event loop; "thread" on aiosqlite's thread, as langgraph's stock
# AsyncSqliteSaver does (the issue's ~220 runs/s floor).
DRIVERS = ("inline", "thread")


def floor(runs: int, clients: int, tmp: Path, driver: str) -> tuple[float, float]:
    """The same graph, `ainvoke`d in a separate process at the same concurrency, on the
    checkpointer the server opens with this driver: runs/s, and CPU milliseconds per run."""
    code = FLOOR.format(
        examples=str(ROOT / "examples"),
        inline=driver == "inline",
        db=str(tmp / f"floor-{driver}.sqlite"),
        runs=runs,
        clients=clients,
        input=INPUT,
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rate, cpu_ms = out.stdout.strip().splitlines()[-1].split()
    return float(rate), float(cpu_ms)


def start_server(
    tmp: Path, clients: int, driver: str, *, config: Path = EXAMPLES, env: dict | None = None,
    name: str | None = None,
) -> ServerProcess:  # fmt: skip
    server = ServerProcess(
        tmp / f"data-{name or driver}",
        config,
        extra_args=["--n-jobs-per-worker", str(clients)],
        env={"GRAPHDOCK_SQLITE_CHECKPOINTS": driver, **(env or {})},
    )
    server.start()
    return server


# The event memory budgets the memory figures are taken with: the default, and a small one.
MEMORY_BUDGETS = (None, 8)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


async def memory(tmp: Path, runs: int, clients: int, budget_mb: float | None) -> dict:
    """Server RSS before and after `runs` runs (each on a new thread), and what the event
    store holds then: finished runs' events stay for the retention, within the budget."""
    env = {} if budget_mb is None else {"GRAPHDOCK_EVENT_MEMORY_MB": str(budget_mb)}
    server = start_server(tmp, clients, "inline", env=env, name=f"memory-{budget_mb}")
    try:
        await throughput(server.url, 200, clients, create_threads=True)  # warm up
        before = rss_mb(server.proc.pid)
        await throughput(server.url, runs, clients, create_threads=True)
        after = rss_mb(server.proc.pid)
        async with httpx.AsyncClient(base_url=server.url) as client:
            metrics = (await client.get("/metrics", params={"format": "json"})).json()
    finally:
        server.stop()
    figures: dict[str, object] = {"rss_mb_before": before, f"rss_mb_after_{runs}_runs": after}
    events = metrics.get("events")  # absent from a server without an in-memory event store
    if events is not None:
        figures |= {
            "event_memory_budget_mb": round(events["memory_budget_bytes"] / 2**20, 1),
            "event_store_mb": round(events["stored_bytes"] / 2**20, 1),
            "runs_whose_events_are_kept": events["finished_logs"],
            "runs_whose_events_were_dropped_for_memory": events["dropped_for_memory"],
        }
    return figures


FERNET = """
import os, orjson
from cryptography.fernet import Fernet
from langgraph_sdk import Encryption

encryption = Encryption()
fernet = Fernet(os.environ["BENCH_FERNET_KEY"].encode())


@encryption.encrypt.json
async def encrypt_json(ctx, data):
    return {k: "enc:" + fernet.encrypt(orjson.dumps(v)).decode() for k, v in data.items()}


@encryption.decrypt.json
async def decrypt_json(ctx, data):
    return {k: orjson.loads(fernet.decrypt(v[4:].encode())) if isinstance(v, str) and v.startswith("enc:") else v
            for k, v in data.items()}


@encryption.encrypt.blob
async def encrypt_blob(ctx, blob):
    return fernet.encrypt(blob)


@encryption.decrypt.blob
async def decrypt_blob(ctx, blob):
    return fernet.decrypt(blob)
"""


def encrypted_setups(tmp: Path) -> dict[str, tuple[Path, dict[str, str]]]:
    """The examples with the built-in AES (checkpoints and the `messages` key sealed), and
    with a custom Encryption (every value of every document, and every checkpoint)."""
    from cryptography.fernet import Fernet

    config = json.loads(EXAMPLES.read_text())
    config["dependencies"] = [str(ROOT / "examples")]
    config["graphs"] = {
        g: {**spec, "path": str(ROOT / "examples" / spec["path"])}
        for g, spec in config["graphs"].items()
    }
    config["env"] = str(ROOT / "examples" / config["env"])
    project = tmp / "encrypted"
    project.mkdir()
    (project / "fernet_encryption.py").write_text(FERNET)
    custom = project / "custom.json"
    custom.write_text(
        json.dumps({**config, "encryption": {"path": "./fernet_encryption.py:encryption"}})
    )
    plain = project / "aes.json"
    plain.write_text(json.dumps(config))
    aes = {"LANGGRAPH_AES_KEY": "k" * 32, "LANGGRAPH_AES_JSON_KEYS": "messages"}
    return {
        "aes": (plain, aes),
        "custom_fernet": (custom, {"BENCH_FERNET_KEY": Fernet.generate_key().decode()}),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=800)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--memory-runs", type=int, default=10_000)
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    n = args.clients
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for driver in DRIVERS:
            server = start_server(tmp_path, n, driver)
            try:
                if driver == "inline":
                    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
                        await wait_latency(client, 20)  # warm up
                        waits = await wait_latency(client, args.samples)
                        firsts = await first_event_latency(client, args.samples)
                        eps, count = await events_per_second(client, args.events)
                        tokens = await first_token_classic(client, args.samples)
                        tokens_v3 = await first_token_v3(client, args.samples)
                        eps_v3, count_v3 = await events_per_second_v3(client, args.events)
                    figures |= {
                        "create_thread_and_wait_ms_p50": round(statistics.median(waits), 2),
                        "create_thread_and_wait_ms_p95": round(pct(waits, 0.95), 2),
                        "first_event_ms_p50": round(statistics.median(firsts), 2),
                        "first_event_ms_p95": round(pct(firsts, 0.95), 2),
                        "custom_events_per_s_one_stream": round(eps),
                        "custom_events_counted": count,
                        "first_messages_token_ms_p50": round(statistics.median(tokens), 2),
                        "v3_first_messages_delta_ms_p50": round(statistics.median(tokens_v3), 2),
                        "v3_first_messages_delta_ms_p95": round(pct(tokens_v3, 0.95), 2),
                        "v3_custom_events_per_s_one_subscription": round(eps_v3),
                        "v3_custom_events_counted": count_v3,
                    }
                else:
                    await throughput(server.url, 100, n, create_threads=False)  # warm up
                cpu: dict = {"pid": server.proc.pid}
                rps = await throughput(server.url, args.runs, n, create_threads=False, cpu=cpu)
                with_create = await throughput(server.url, args.runs, n, create_threads=True)
            finally:
                server.stop()
            floor_rps, floor_cpu_ms = floor(args.runs, n, tmp_path, driver)
            figures[f"{driver}_checkpoints"] = {
                f"runs_per_s_{n}_clients": round(rps, 1),
                f"create_thread_and_run_per_s_{n}_clients": round(with_create, 1),
                f"floor_in_process_runs_per_s_{n}_concurrent": round(floor_rps, 1),
                "server_vs_floor": f"{rps / floor_rps:.0%}",
                "server_cpu_ms_per_run": round(cpu["ms"], 2),
                "floor_cpu_ms_per_run": round(floor_cpu_ms, 2),
                "overhead_per_run_cpu_ms": round(cpu["ms"] - floor_cpu_ms, 2),
            }
        if args.memory_runs:
            figures["memory"] = [
                await memory(tmp_path, args.memory_runs, n, budget) for budget in MEMORY_BUDGETS
            ]
        encryption: dict[str, object] = {
            f"off_runs_per_s_{n}_clients": figures["inline_checkpoints"][f"runs_per_s_{n}_clients"]  # type: ignore[index]
        }
        for name, (config, env) in encrypted_setups(tmp_path).items():
            server = start_server(tmp_path, n, "inline", config=config, env=env, name=name)
            try:
                await throughput(server.url, 100, n, create_threads=False)  # warm up
                rps = await throughput(server.url, args.runs, n, create_threads=False)
            finally:
                server.stop()
            encryption[f"{name}_runs_per_s_{n}_clients"] = round(rps, 1)
        figures["encryption_at_rest"] = encryption
    figures["cpus"] = os.cpu_count()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
