"""The long-term store on SQLite: langgraph's own AsyncSqliteStore, in the same file.

It gets the app's `store.index` (semantic search) and `store.ttl` (expiry) from
langgraph.json. Vector search needs cosine distance inside SQLite: langgraph loads the
sqlite-vec extension for it, but many Python builds (pyenv's default among them) ship a
`sqlite3` that cannot load extensions at all. There the same SQL functions are registered
from Python instead: slower on very large stores, identical results.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import math
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
from langgraph.store.base import TTLConfig
from langgraph.store.sqlite.aio import AsyncSqliteStore
from langgraph.store.sqlite.base import SqliteIndexConfig

from graphdock.server.adapters.embeddings import load_embeddings
from graphdock.server.config import Config

log = logging.getLogger("graphdock.store")

CAN_LOAD_EXTENSIONS = hasattr(sqlite3.Connection, "enable_load_extension")


def _vector(blob: bytes) -> array.array:
    return array.array("f", blob)  # sqlite-vec's float32 serialisation, native byte order


def vec_distance_cosine(a: bytes | None, b: bytes | None) -> float | None:
    if a is None or b is None:
        return None
    x, y = _vector(a), _vector(b)
    norm = math.sqrt(sum(v * v for v in x)) * math.sqrt(sum(v * v for v in y))
    if not norm:
        return 1.0
    return 1.0 - sum(p * q for p, q in zip(x, y, strict=False)) / norm


def vec_distance_l2(a: bytes | None, b: bytes | None) -> float | None:
    if a is None or b is None:
        return None
    return math.sqrt(sum((p - q) ** 2 for p, q in zip(_vector(a), _vector(b), strict=False)))


def vec_distance_l1(a: bytes | None, b: bytes | None) -> float | None:
    if a is None or b is None:
        return None
    return sum(abs(p - q) for p, q in zip(_vector(a), _vector(b), strict=False))


class SqliteIndex(SqliteIndexConfig, total=False):
    text_fields: list[str]
    """The fields to embed, under the key langgraph's SQLite store reads them from (its
    SqliteIndexConfig declares only IndexConfig's `fields`)."""


class SqliteStore(AsyncSqliteStore):
    """AsyncSqliteStore that still does vector search when sqlite-vec cannot be loaded."""

    filter_paths = True  # a dotted filter key is a JSON path into the value (json_extract)

    async def setup(self) -> None:
        if not self.index_config or CAN_LOAD_EXTENSIONS:
            await super().setup()
            return
        index, self.index_config = self.index_config, None
        try:
            await super().setup()  # the plain tables and migrations, without the extension
        finally:
            self.index_config = index
        for name, fn in (
            ("vec_distance_cosine", vec_distance_cosine),
            ("vec_distance_L2", vec_distance_l2),
            ("vec_distance_L1", vec_distance_l1),
        ):
            await self.conn.create_function(name, 2, fn, deterministic=True)
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS vector_migrations (v INTEGER PRIMARY KEY)"
        )
        async with self.conn.execute("SELECT max(v) FROM vector_migrations") as cur:
            row = await cur.fetchone()
        done = row[0] if row and row[0] is not None else -1
        for v, sql in enumerate(self.VECTOR_MIGRATIONS[done + 1 :], start=done + 1):
            await self.conn.executescript(sql)
            await self.conn.execute("INSERT INTO vector_migrations (v) VALUES (?)", (v,))
        log.info("this Python's sqlite3 cannot load sqlite-vec; vector distances run in Python")


def index_config(config: Config) -> SqliteIndex | None:
    """langgraph's index config from `store.index` (None: no semantic search)."""
    if config.store_index is None:
        return None
    fields = config.store_index.fields or ["$"]
    return {
        "dims": config.store_index.dims,
        "embed": load_embeddings(config.store_index, config.path),
        "fields": fields,
        "text_fields": fields,  # the key the SQLite store reads
    }


def ttl_config(config: Config) -> TTLConfig:
    """langgraph's TTL config from `store.ttl`. Always given, so a per-item `ttl` is honoured
    and refreshed on read even when the app sets no default."""
    ttl = config.store_ttl
    if ttl is None:
        return {"refresh_on_read": True, "default_ttl": None}
    return {"refresh_on_read": ttl.refresh_on_read, "default_ttl": ttl.default_ttl}


@contextlib.asynccontextmanager
async def open_sqlite_store(
    path: Path, config: Config, *, lock: asyncio.Lock | None = None
) -> AsyncIterator[SqliteStore]:
    """`lock`: the one every other connection to this file takes its turn through. The
    store holds SQLite's write lock across awaits (its transaction runs on aiosqlite's
    thread); a connection that then blocks the event loop waiting for that lock would wait
    out the whole busy timeout, because the store's COMMIT needs the loop. Sharing the lock
    makes them take turns instead."""
    index = index_config(config)
    conn = await aiosqlite.connect(path, isolation_level=None)  # the store issues its own BEGIN
    try:
        await conn.execute("PRAGMA busy_timeout=30000")
        store = SqliteStore(conn, index=index, ttl=ttl_config(config))
        if lock is not None:
            store.lock = lock  # AsyncSqliteStore holds it around each transaction
        await store.setup()
        yield store
    finally:
        await conn.close()
