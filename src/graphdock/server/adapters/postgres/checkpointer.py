"""langgraph's Postgres checkpointer, with the thread operations the API needs and it lacks:
copying a thread's history and deleting what one run wrote (rollback)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from graphdock.server.adapters.sealed import Boxed, SealedMetadata


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
        return await super().aput(config, checkpoint, metadata, new_versions)

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
