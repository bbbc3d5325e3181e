"""An aiosqlite-shaped connection that runs each statement on the event loop itself.

langgraph's SQLite checkpointer is written against aiosqlite, which sends every call
(cursor, execute, fetch, commit, close) to a thread and back. A checkpoint write is three
such round trips and a read six; each costs more than the indexed statement it carries,
and while one is in flight the checkpointer's lock keeps every other run's database work
waiting, so a busy server sat idle a quarter to a third of the time. The statements here
are small, indexed and local, so running them inline is both cheaper and fairer.

Only the part of aiosqlite's interface that the checkpointer uses is provided.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# What sqlite3 binds a statement's placeholders from: values by position, or by name.
Parameters = Sequence[Any] | Mapping[str, Any]


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    async def execute(self, sql: str, parameters: Parameters = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Parameters]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def executescript(self, script: str) -> InlineCursor:
        self._cursor.executescript(script)
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchall(self):
        return self._cursor.fetchall()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def description(self):
        return self._cursor.description

    def __aiter__(self):
        return self

    async def __anext__(self):
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc) -> None:
        self._cursor.close()


class _CursorCall:
    """What aiosqlite's `conn.execute(...)` returns: awaitable, or usable with `async with`
    (which closes the cursor on exit)."""

    def __init__(self, cursor: InlineCursor):
        self._cursor = cursor

    def __await__(self):
        async def result():
            return self._cursor

        return result().__await__()

    async def __aenter__(self) -> InlineCursor:
        return self._cursor

    async def __aexit__(self, *exc) -> None:
        await self._cursor.close()


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    @classmethod
    def connect(cls, path: Path | str, **kwargs: Any) -> InlineConnection:
        # The loop thread opens it, but the checkpointer's sync methods hop back onto the
        # loop before touching it, so it is only ever used from one thread at a time.
        return cls(sqlite3.connect(path, check_same_thread=False, **kwargs))

    def is_alive(self) -> bool:
        return True

    def __await__(self):
        """aiosqlite starts its thread when awaited; this connection is open already."""

        async def opened():
            return self

        return opened().__await__()

    def cursor(self) -> _CursorCall:
        return _CursorCall(InlineCursor(self._conn.cursor()))

    def execute(self, sql: str, parameters: Parameters = ()) -> _CursorCall:
        return _CursorCall(InlineCursor(self._conn.execute(sql, parameters)))

    def executemany(self, sql: str, parameters: Iterable[Parameters]) -> _CursorCall:
        return _CursorCall(InlineCursor(self._conn.executemany(sql, parameters)))

    def executescript(self, script: str) -> _CursorCall:
        return _CursorCall(InlineCursor(self._conn.executescript(script)))

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def row_factory(self):
        return self._conn.row_factory

    @row_factory.setter
    def row_factory(self, factory) -> None:
        self._conn.row_factory = factory
