"""The long-term store on SQLite: langgraph's own AsyncSqliteStore, in the same file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
from langgraph.store.sqlite.aio import AsyncSqliteStore

from graphdock.server.config import Config


@contextlib.asynccontextmanager
async def open_sqlite_store(path: Path, config: Config) -> AsyncIterator[AsyncSqliteStore]:
    conn = await aiosqlite.connect(path, isolation_level=None)  # the store issues its own BEGIN
    try:
        await conn.execute("PRAGMA busy_timeout=30000")
        store = AsyncSqliteStore(conn)
        await store.setup()
        yield store
    finally:
        await conn.close()
