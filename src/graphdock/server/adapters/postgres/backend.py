"""The scale-out backend: PostgreSQL for all durable state, Redis for the event bus.

Any number of API and worker processes open it on the same database and Redis: they share
the run queue (claimed with SELECT ... FOR UPDATE SKIP LOCKED), the checkpoints, the store
and every run's event stream.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from graphdock.server.adapters.sealed import checkpoint_serde, sealed_store
from graphdock.server.config import Config
from graphdock.server.ports.backend import Backend
from graphdock.server.ports.bus import EventBus
from graphdock.server.settings import Settings

log = logging.getLogger("graphdock.postgres")


async def setup_database(url: str, config: Config) -> None:
    """Bring a database to the current schema (graphdock's tables, checkpoints, store).

    Safe to call from many processes at once: one migrates while the others wait.
    """
    async with contextlib.AsyncExitStack() as stack:
        await _open_postgres(stack, url, config, migrate=True)


async def _open_postgres(stack: contextlib.AsyncExitStack, url: str, config: Config, *,
                         migrate: bool = True, pool_size: int = 2, codec: Any = None):  # fmt: skip
    from psycopg import AsyncConnection
    from psycopg.rows import DictRow, dict_row
    from psycopg_pool import AsyncConnectionPool

    from graphdock.server.adapters.postgres import setup
    from graphdock.server.adapters.postgres.checkpointer import PostgresCheckpointer
    from graphdock.server.adapters.postgres.store import make_store
    from graphdock.server.adapters.sql.storage import SqlStorage

    engine = setup.create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    storage = SqlStorage(engine, codec=codec)
    stack.push_async_callback(storage.close)
    pool: AsyncConnectionPool[AsyncConnection[DictRow]] = AsyncConnectionPool(
        setup.psycopg_url(url),
        min_size=1,
        max_size=max(2, pool_size // 2),  # the checkpointer and the store each take turns
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "row_factory": dict_row,
            "connect_timeout": setup.CONNECT_TIMEOUT,
        },
        # While the database is down, a request waits this long for a connection, then gets
        # a 503 (StorageUnavailable) rather than hanging for psycopg's default half minute.
        timeout=setup.CONNECT_TIMEOUT,
        open=False,
    )
    await pool.open()
    stack.push_async_callback(pool.close)
    checkpointer = PostgresCheckpointer(pool, serde=checkpoint_serde(config, codec))
    checkpointer.codec = codec
    vector = await setup.has_vector(engine) if config.store_index is not None else False
    store = make_store(pool, config, vector=vector)
    if migrate:
        async with setup.migration_lock(url):
            await setup.migrate(engine)
            await checkpointer.setup()
            await store.setup()
    return storage, checkpointer, sealed_store(store, codec)


@contextlib.asynccontextmanager
async def open_scaleout(
    settings: Settings, config: Config, codec: Any = None
) -> AsyncIterator[Backend]:
    assert settings.database_url
    async with contextlib.AsyncExitStack() as stack:
        storage, checkpointer, store = await _open_postgres(
            stack, settings.database_url, config, pool_size=settings.pg_pool_size, codec=codec
        )
        bus: EventBus
        if settings.redis_url:
            from graphdock.server.adapters.redis.bus import RedisEventBus

            bus = RedisEventBus(
                settings.redis_url,
                prefix=settings.redis_prefix,
                retention_seconds=settings.event_retention_seconds,
            )
            await bus.start()
            single_process = False
        else:
            from graphdock.server.adapters.memory.bus import MemoryEventBus

            log.warning(
                "no Redis configured (REDIS_URI / --redis-url): events and cancellation stay "
                "inside this process; run one graphdock process only"
            )
            bus = MemoryEventBus(
                retention_seconds=settings.event_retention_seconds,
                memory_budget=settings.event_memory_bytes,
            )
            single_process = False
        stack.push_async_callback(bus.close)
        yield Backend("postgres", storage, bus, checkpointer, store, single_process=single_process)
