"""Round-trip counters for the bench's server processes, loaded only by them.

The bench puts this folder on PYTHONPATH with GRAPHDOCK_BENCH_COUNTS naming a folder; the
process then counts its round trips to Redis (every packed write of redis-py's async
connections: one per command, or one per pipeline or script call) and to PostgreSQL (every
exchange psycopg waits on: a statement, a COMMIT, a pipeline's sync), and writes the totals
to `<folder>/<pid>.json` every 50 ms. Nothing in graphdock knows about it.
"""

from __future__ import annotations

import os

_folder = os.environ.get("GRAPHDOCK_BENCH_COUNTS")

if _folder:
    import json
    import threading
    import time

    counts = {"redis": 0, "postgres": 0}

    def _counted(method):
        async def counted(*args, **kwargs):
            counts["postgres"] += 1
            return await method(*args, **kwargs)

        return counted

    def _install() -> None:
        from redis.asyncio.connection import AbstractConnection

        send = AbstractConnection.send_packed_command

        async def send_packed_command(self, command, check_health=True):
            counts["redis"] += 1
            return await send(self, command, check_health)

        AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]

        try:
            import asyncpg
            from asyncpg.prepared_stmt import PreparedStatement
        except ImportError:
            pass
        else:
            for cls, names in (
                (
                    asyncpg.Connection,
                    ("execute", "executemany", "fetch", "fetchrow", "fetchval", "prepare"),
                ),
                (PreparedStatement, ("fetch", "fetchrow", "fetchval", "executemany")),
            ):
                for name in names:
                    setattr(cls, name, _counted(getattr(cls, name)))
        try:
            import psycopg
        except ImportError:
            return
        wait = psycopg.AsyncConnection.wait

        async def counted_wait(self, gen, *args, **kwargs):
            counts["postgres"] += 1
            return await wait(self, gen, *args, **kwargs)

        psycopg.AsyncConnection.wait = counted_wait  # type: ignore[method-assign]

    def _dump() -> None:
        path = os.path.join(_folder, f"{os.getpid()}.json")
        last = None
        while True:
            now = dict(counts)
            if now != last:
                with open(path + ".tmp", "w") as f:
                    json.dump(now, f)
                os.replace(path + ".tmp", path)
                last = now
            time.sleep(0.05)

    _install()
    threading.Thread(target=_dump, name="bench-counts", daemon=True).start()
