"""Time-to-live: a loop that deletes expired threads and expired store items.

Threads get an `expires_at` from their `ttl` (ThreadService sets it on create and patch);
expired ones are deleted through ThreadService.delete, the same path as
`DELETE /threads/{id}`, so their runs are cancelled and their checkpoints go too. Store
items carry their own expiry and the store deletes them itself (`sweep_ttl`).

Sweeping more than one process at once is harmless: a thread already deleted by another
sweeper is simply skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from graphdock.server.config import Config
from graphdock.server.ports.errors import Unavailable
from graphdock.server.ports.storage import Storage
from graphdock.server.services import clock
from graphdock.server.services.context import ANONYMOUS
from graphdock.server.services.errors import NotFound
from graphdock.server.services.threads import ThreadService

log = logging.getLogger("graphdock.ttl")

DEFAULT_SWEEP_SECONDS = 300.0  # langgraph's default sweep interval: 5 minutes


def sweep_interval(config: Config, override: float | None) -> float:
    """The setting if given, else the shortest `sweep_interval_minutes` configured."""
    if override is not None:
        return max(float(override), 0.05)
    minutes = [
        ttl.sweep_interval_minutes
        for ttl in (config.store_ttl, config.checkpointer_ttl)
        if ttl is not None and ttl.sweep_interval_minutes
    ]
    return min(minutes) * 60.0 if minutes else DEFAULT_SWEEP_SECONDS


class TtlSweeper:
    def __init__(
        self,
        storage: Storage,
        threads: ThreadService,
        store: Any,
        *,
        interval: float,
        batch: int = 100,
        limit: int | None = None,
    ):
        self.storage = storage
        self.threads = threads
        self.store = store
        self.interval = interval
        self.batch = batch
        self.limit = limit  # checkpointer.ttl.sweep_limit: threads deleted per sweep at most
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="graphdock-ttl-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Unavailable as exc:
                log.warning("ttl sweep skipped: %s", exc.detail)
            except Exception:
                log.exception("ttl sweep failed; trying again in %.1f s", self.interval)

    async def sweep(self) -> tuple[int, int]:
        """One pass: (threads deleted, store items deleted)."""
        return await self.sweep_threads(), await self.sweep_store()

    async def sweep_threads(self) -> int:
        deleted = 0
        while self.limit is None or deleted < self.limit:
            batch = self.batch if self.limit is None else min(self.batch, self.limit - deleted)
            async with self.storage.begin() as tx:
                expired = await tx.expired_thread_ids(clock.now(), batch)
            before = deleted
            for thread_id in expired:
                with contextlib.suppress(NotFound):  # another sweeper, or a client, was first
                    await self.threads.delete(thread_id, ANONYMOUS)
                    deleted += 1
            if len(expired) < batch or deleted == before:
                break
        if deleted:
            log.info("ttl: deleted %d expired thread(s)", deleted)
        return deleted

    async def sweep_store(self) -> int:
        sweep = getattr(self.store, "sweep_ttl", None)
        deleted = int(await sweep() or 0) if sweep is not None else 0
        if deleted:
            log.info("ttl: deleted %d expired store item(s)", deleted)
        return deleted
