"""The SQLite engine: WAL, a busy timeout, and write transactions that take the lock up front.

One connection serves all of graphdock's own queries (SQLite has one writer anyway), and
`BEGIN IMMEDIATE` avoids the deadlock where two readers both try to upgrade to writers.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from graphdock.server.adapters.sql import migrate


def _json(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _pragmas(dbapi_conn) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.close()


def migrate_sqlite(path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{path}", json_serializer=_json)
    event.listen(engine, "connect", lambda c, _: _pragmas(c))
    with engine.begin() as conn:
        migrate.upgrade(conn)
    engine.dispose()


def create_sqlite_engine(path: Path) -> sa.Engine:
    """One connection, used from the event loop, that takes the write lock up front."""
    engine = sa.create_engine(
        f"sqlite:///{path}",
        json_serializer=_json,
        json_deserializer=orjson.loads,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        _pragmas(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Straight to sqlite3: the statement needs none of SQLAlchemy's execution machinery,
        # which costs more than SQLite does to take the lock.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")

    return engine
