"""The long-term store on PostgreSQL: langgraph's own AsyncPostgresStore (pgvector for
semantic search, when `store.index` is configured), raising `StorageUnavailable` when the
database cannot be reached (once more first, after dropping the pool's dead connections:
they die with a restart)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.postgres.base import PostgresIndexConfig
from psycopg_pool import AsyncConnectionPool

from graphdock.server.adapters.postgres.errors import raising_unavailable, unavailable
from graphdock.server.adapters.sqlite.store import index_config as _index_config
from graphdock.server.adapters.sqlite.store import ttl_config
from graphdock.server.config import Config

log = logging.getLogger("graphdock.store")

__all__ = ["index_config", "make_store", "ttl_config"]


def index_config(config: Config, *, vector: bool) -> PostgresIndexConfig | None:
    index = _index_config(config)
    if index is None:
        return None
    if not vector:
        log.warning(
            "store.index is configured but this PostgreSQL has no pgvector extension: "
            "semantic search is off (store search ignores `query`). Install pgvector "
            "(e.g. the postgresql-NN-pgvector package) to enable it."
        )
        return None
    return {
        "dims": index["dims"],
        "embed": index["embed"],
        "fields": index["fields"],
        "distance_type": "cosine",
    }


class PostgresStore(AsyncPostgresStore):
    async def abatch(self, ops):
        ops = list(ops)
        try:
            return await super().abatch(ops)
        except Exception as exc:
            if unavailable(exc) is None:
                raise
            if isinstance(self.conn, AsyncConnectionPool):  # drop its dead connections
                with contextlib.suppress(Exception):
                    await self.conn.check()
        with raising_unavailable():
            return await super().abatch(ops)


def make_store(pool: Any, config: Config, *, vector: bool) -> PostgresStore:
    return PostgresStore(pool, index=index_config(config, vector=vector), ttl=ttl_config(config))
