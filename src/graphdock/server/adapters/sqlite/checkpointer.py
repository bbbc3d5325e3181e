"""langgraph's SQLite checkpointer, with the thread operations the API needs and it lacks
(copying a thread's history, deleting what one run wrote, pruning) and fenced writes.

A run's writes carry its Fence (adapters/fencing.py). Every statement of the embedded
server, the checkpointer's, the storage's and the store's, takes turns through one lock; a
fenced write reads the run's row right after taking it, before its own statement, so
nothing can claim or sweep the run in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Literal

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from graphdock.server.adapters import fencing
from graphdock.server.adapters.sealed import SealedMetadata
from graphdock.server.adapters.sqlite.inline import InlineConnection
from graphdock.server.ports.storage import Fence

HOLDER = "SELECT status, attempt FROM runs WHERE run_id = ?"  # the run's row, for the fence


class _FencingLock(asyncio.Lock):
    """The lock every SQLite statement of the process takes turns through; taken for a fenced
    write (langgraph's saver takes it around each write), it also checks the write's fence."""

    def __init__(self, saver: SqliteCheckpointer):
        super().__init__()
        self._saver = saver

    async def acquire(self) -> Literal[True]:
        await super().acquire()
        fence = fencing.current()
        if fence is not None:
            try:
                await self._saver._check_holder(fence)
            except BaseException:
                self.release()
                raise
        return True


class SqliteCheckpointer(SealedMetadata, AsyncSqliteSaver):
    def __init__(self, conn, **kwargs):
        super().__init__(conn, **kwargs)
        self.lock = _FencingLock(self)

    async def setup(self) -> None:
        if not self.is_setup:  # langgraph's takes the lock first, on every write
            await super().setup()

    async def aput(self, config, checkpoint, metadata, new_versions):
        with self._fenced(config):
            return await super().aput(config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config, writes, task_id, task_path: str = "") -> None:
        with self._fenced(config):
            return await super().aput_writes(config, writes, task_id, task_path)

    @contextlib.contextmanager
    def _fenced(self, config):
        fence = fencing.fence_of(config)
        if fence is None:
            yield
            return
        fencing.check_held(fence)
        with fencing.writing_for(fence):
            yield

    async def _check_holder(self, fence: Fence) -> None:
        async with self.conn.execute(HOLDER, (fence.run_id,)) as cur:
            row = await cur.fetchone()
        fencing.check_holder(fence, *(row if row is not None else (None, None)))

    async def _script(self, sql: str, params: Sequence) -> None:
        await self.setup()
        async with self.lock:
            try:
                rest = list(params)
                for statement in sql.split(";\n"):
                    n = statement.count("?")
                    await self.conn.execute(statement, rest[:n])
                    rest = rest[n:]
                await self.conn.commit()
            except BaseException:
                await self.conn.rollback()
                raise

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._script(
            "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata) "
            "SELECT ?, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
            "CAST(json_set(CAST(metadata AS TEXT), '$.thread_id', ?) AS BLOB) FROM checkpoints WHERE thread_id = ?;\n"
            "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value) "
            "SELECT ?, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value FROM writes WHERE thread_id = ?",
            [
                target_thread_id,
                target_thread_id,
                source_thread_id,
                target_thread_id,
                source_thread_id,
            ],
        )

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        for run_id in run_ids:
            await self._script(
                "DELETE FROM writes WHERE EXISTS (SELECT 1 FROM checkpoints c WHERE c.thread_id = writes.thread_id "
                "AND c.checkpoint_ns = writes.checkpoint_ns AND c.checkpoint_id = writes.checkpoint_id "
                "AND json_extract(CAST(c.metadata AS TEXT), '$.run_id') = ?);\n"
                "DELETE FROM checkpoints WHERE json_extract(CAST(metadata AS TEXT), '$.run_id') = ?",
                [run_id, run_id],
            )

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        for thread_id in thread_ids:
            if strategy == "delete":
                await self.adelete_thread(thread_id)
                continue
            await self._script(
                "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id NOT IN "
                "(SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = ? GROUP BY checkpoint_ns);\n"
                "DELETE FROM writes WHERE thread_id = ? AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE "
                "c.thread_id = writes.thread_id AND c.checkpoint_ns = writes.checkpoint_ns AND c.checkpoint_id = writes.checkpoint_id)",
                [thread_id, thread_id, thread_id],
            )


@contextlib.asynccontextmanager
async def open_checkpointer(
    path: Path | str, *, inline: bool = True, serde: Any = None, codec: Any = None
) -> AsyncIterator[SqliteCheckpointer]:
    """The checkpointer the embedded server runs graphs on (bench/run.py's floor opens the
    same one). `inline`: statements run on the event loop (see `inline.py`); otherwise on
    aiosqlite's thread, as langgraph's stock saver runs them. `serde` / `codec`: how
    checkpoints and their metadata are serialized and sealed (app.py decides)."""
    conn = InlineConnection.connect(path) if inline else await aiosqlite.connect(path)
    try:
        await conn.execute("PRAGMA busy_timeout=30000")
        await conn.execute("PRAGMA synchronous=NORMAL")
        checkpointer = SqliteCheckpointer(conn, serde=serde)
        checkpointer.codec = codec
        await checkpointer.setup()
        yield checkpointer
    finally:
        await conn.close()
