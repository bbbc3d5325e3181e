"""Connection URLs and schema set-up for PostgreSQL.

Several processes may start at once on a fresh database: every schema change (graphdock's
Alembic migrations, the checkpointer's and the store's own migrations) runs inside one
session-level advisory lock, so exactly one process migrates and the others wait, then
find nothing left to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger("graphdock.postgres")

# pg_advisory_lock key: "graphdock" as a number, shared by every graphdock process.
MIGRATION_LOCK = 0x67_72_61_70_68_64_6F_63
# Seconds to wait for a connection to the database (asyncpg's default is a minute): an
# unreachable database makes requests fail with a 503 after this, rather than hang.
CONNECT_TIMEOUT = 5


def _json(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def sqlalchemy_url(url: str) -> str:
    """`postgresql://...` (or `postgres://`, `postgresql+psycopg://`) for asyncpg."""
    parsed = make_url(_normalise(url))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def psycopg_url(url: str) -> str:
    """The plain libpq URL psycopg takes."""
    parsed = make_url(_normalise(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _normalise(url: str) -> str:
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        json_serializer=_json,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT},
    )


@contextlib.asynccontextmanager
async def migration_lock(url: str) -> AsyncIterator[None]:
    """Hold graphdock's advisory lock on the database while the block runs."""
    import psycopg

    conn = await psycopg.AsyncConnection.connect(psycopg_url(url), autocommit=True)
    try:
        # Polled, not a blocking pg_advisory_lock: a session blocked in a statement holds a
        # snapshot, which the migrator's CREATE INDEX CONCURRENTLY would wait for forever.
        while True:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK,))
            row = await cur.fetchone()
            assert row is not None  # a SELECT without FROM: always one row
            if row[0]:
                break
            await asyncio.sleep(0.1)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    finally:
        await conn.close()


async def migrate(engine: AsyncEngine) -> None:
    """graphdock's own tables (Alembic), to head."""
    from graphdock.server.adapters.sql import migrate as sql_migrate

    async with engine.begin() as conn:
        await conn.run_sync(sql_migrate.upgrade)


async def has_vector(engine: AsyncEngine) -> bool:
    """Whether pgvector is installed, or can be, in this database."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text(
                    "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')"
                )
            )
        ).scalar()
    return bool(row)
