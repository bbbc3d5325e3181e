"""Which adapters serve the ports: the embedded SQLite backend, or (with a database URL)
the scale-out one. Chosen once, at start-up, from the settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from graphdock.server.adapters.sealed import checkpoint_serde, sealed_store
from graphdock.server.config import Config
from graphdock.server.ports.backend import Backend
from graphdock.server.settings import Settings


@contextlib.asynccontextmanager
async def open_backend(
    settings: Settings, config: Config, codec: Any = None
) -> AsyncIterator[Backend]:
    """`codec`: encryption at rest (server/encryption.py), or None."""
    if settings.database_url:
        from graphdock.server.adapters.postgres.backend import open_scaleout

        async with open_scaleout(settings, config, codec) as backend:
            yield backend
        return
    async with open_embedded(settings, config, codec) as backend:
        yield backend


@contextlib.asynccontextmanager
async def open_embedded(
    settings: Settings, config: Config, codec: Any = None
) -> AsyncIterator[Backend]:
    """One SQLite file in the data dir holds everything; events stay in this process."""
    from graphdock.server.adapters.memory.bus import MemoryEventBus
    from graphdock.server.adapters.sql.storage import SqlStorage
    from graphdock.server.adapters.sqlite.checkpointer import open_checkpointer
    from graphdock.server.adapters.sqlite.engine import create_sqlite_engine, migrate_sqlite
    from graphdock.server.adapters.sqlite.store import open_sqlite_store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate_sqlite(settings.sqlite_path)
    async with contextlib.AsyncExitStack() as stack:
        checkpointer = await stack.enter_async_context(
            open_checkpointer(
                settings.sqlite_path,
                inline=settings.sqlite_checkpoints == "inline",
                serde=checkpoint_serde(config, codec),
                codec=codec,
            )
        )
        # One writer at a time, in turn, instead of SQLite's busy handler sleeping.
        storage = SqlStorage(
            create_sqlite_engine(settings.sqlite_path), lock=checkpointer.lock, codec=codec
        )
        stack.push_async_callback(storage.close)
        bus = MemoryEventBus(
            retention_seconds=settings.event_retention_seconds,
            memory_budget=settings.event_memory_bytes,
        )
        stack.push_async_callback(bus.close)
        store = await stack.enter_async_context(
            open_sqlite_store(settings.sqlite_path, config, lock=checkpointer.lock)
        )
        store = sealed_store(store, codec)
        yield Backend("sqlite", storage, bus, checkpointer, store, single_process=True)
