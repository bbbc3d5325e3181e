"""langgraph's Postgres checkpointer, with the thread operations the API needs and it lacks
(copying a thread's history, deleting what one run wrote), fenced writes, and a database
that goes away and comes back.

* A run's writes carry its Fence (adapters/fencing.py): each is made in a transaction that
  first calls `graphdock_fence` (migration 0003_fence), which reads the run's row
  `FOR SHARE` and fails the write of an attempt that no longer holds the run. The call is
  pipelined with the write: it costs the write no extra round trip. Writes without a fence
  (the API's) go as langgraph makes them.
* A database that cannot be reached raises `StorageUnavailable`. Connections the pool holds
  die with a restart: on the first such failure the pool drops its dead ones and the call is
  tried once more. A run's own reads and writes wait for the database to come back as long
  as its worker holds the lease (the worker stops the run when it does not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from graphdock.server.adapters import fencing
from graphdock.server.adapters.postgres.errors import raising_unavailable
from graphdock.server.adapters.sealed import Boxed, SealedMetadata
from graphdock.server.ports.errors import StaleAttempt, StorageUnavailable

log = logging.getLogger("graphdock.postgres")

# The fence function (migration 0003_fence) and the SQLSTATE it raises for a stale attempt.
FENCE = "SELECT graphdock_fence(%s, %s)"
STALE = "GD001"


def _why(exc: Exception) -> str:
    """The function's own words after "no longer holds it: "."""
    message = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)
    return message.rpartition(": ")[2]


class PostgresCheckpointer(SealedMetadata, AsyncPostgresSaver):
    async def aput(self, config, checkpoint, metadata, new_versions):
        """With a codec, no channel value stays inline in the checkpoint's JSON row (where
        langgraph keeps strings and numbers): each goes to the blobs, sealed. An unchanged
        one is written again under its version (a no-op when it is there already)."""
        if self.codec is not None and self.codec.seals_blobs:
            values = dict(checkpoint["channel_values"])
            versions = dict(new_versions)
            for name, value in values.items():
                version = checkpoint["channel_versions"].get(name)
                if version is not None and (
                    value is None or isinstance(value, str | int | float | bool)
                ):
                    values[name] = Boxed(value)
                    versions.setdefault(name, version)
            checkpoint = {**checkpoint, "channel_values": values}
            new_versions = versions
        args = (config, checkpoint, metadata, new_versions)
        return await self._call(config, super().aput, *args, write=True)

    async def aput_writes(self, config, writes, task_id, task_path: str = "") -> None:
        args = (config, writes, task_id, task_path)
        return await self._call(config, super().aput_writes, *args, write=True)

    async def aget_tuple(self, config):
        return await self._call(config, super().aget_tuple, config)

    async def _call(self, config, call, *args: Any, write: bool = False) -> Any:
        """`call`, fenced if the config carries a run's fence, through an outage: once more
        after dropping dead connections; for a run, for as long as its worker holds it."""
        fence = fencing.fence_of(config)
        delay, tries = 0.1, 0
        while True:
            tries += 1
            try:
                if fence is None:
                    return await call(*args)
                fencing.check_held(fence)
                if not write:
                    return await call(*args)
                with fencing.writing_for(fence):
                    return await call(*args)
            except StorageUnavailable as exc:
                if tries == 1:
                    await self._drop_dead_connections()
                    continue
                if fence is None:
                    raise
                if tries == 2:
                    log.warning("run %s waits for the database: %s", fence.run_id, exc.reason)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _drop_dead_connections(self) -> None:
        check = getattr(self.conn, "check", None)  # a pool (not a single connection)
        if check is not None:
            with contextlib.suppress(Exception):
                await check()

    @contextlib.asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[Any]:
        fence = fencing.current()
        if fence is None:
            with raising_unavailable():
                async with super()._cursor(pipeline=pipeline) as cur:
                    yield cur
            return
        try:
            with raising_unavailable():
                async with super()._cursor(pipeline=pipeline) as cur:
                    if not (pipeline and self.supports_pipeline):  # langgraph's own transaction
                        async with cur.connection.transaction():
                            await cur.execute(FENCE, (fence.run_id, fence.attempt))
                            yield cur
                        return
                    # One transaction, sent down the pipeline with the write, the fence first:
                    # a stale attempt's write fails with it. BEGIN and COMMIT as statements,
                    # not psycopg's transaction(), which syncs the pipeline on the way in.
                    await cur.execute("BEGIN")
                    await cur.execute(FENCE, (fence.run_id, fence.attempt))
                    yield cur
                    await cur.execute("COMMIT")
        except psycopg.Error as exc:
            # (the pool rolls back the connection the failed transaction left it in)
            if exc.sqlstate == STALE:
                raise StaleAttempt(fence.run_id, fence.attempt, _why(exc)) from exc
            raise

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        src, dst = str(source_thread_id), str(target_thread_id)
        async with self._cursor() as cur, cur.connection.transaction():
            await cur.execute(
                "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, "
                "parent_checkpoint_id, type, checkpoint, metadata) "
                "SELECT %s, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
                "jsonb_set(metadata, '{thread_id}', to_jsonb(%s::text)) "
                "FROM checkpoints WHERE thread_id = %s ON CONFLICT DO NOTHING",
                (dst, dst, src),
            )
            await cur.execute(
                "INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob) "
                "SELECT %s, checkpoint_ns, channel, version, type, blob "
                "FROM checkpoint_blobs WHERE thread_id = %s ON CONFLICT DO NOTHING",
                (dst, src),
            )
            await cur.execute(
                "INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, "
                "task_path, idx, channel, type, blob) "
                "SELECT %s, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob "
                "FROM checkpoint_writes WHERE thread_id = %s ON CONFLICT DO NOTHING",
                (dst, src),
            )

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        ids = [str(r) for r in run_ids]
        if not ids:
            return
        await self._delete_for_runs(ids)
        # A cancelled run's last checkpoint may still be on its way (written in the
        # background with durability "async"): a second pass removes a late one.
        await asyncio.sleep(0.2)
        await self._delete_for_runs(ids)

    async def _delete_for_runs(self, ids: list[str]) -> None:
        async with self._cursor() as cur, cur.connection.transaction():
            await cur.execute(
                "DELETE FROM checkpoint_writes w USING checkpoints c "
                "WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns "
                "AND c.checkpoint_id = w.checkpoint_id AND c.metadata->>'run_id' = ANY(%s)",
                (ids,),
            )
            await cur.execute("DELETE FROM checkpoints WHERE metadata->>'run_id' = ANY(%s)", (ids,))
