"""The Storage and Queue ports on SQLAlchemy Core (async): SQLite and PostgreSQL.

Opened with a codec (encryption at rest), every JSON document column is sealed by it on
the way in and opened on the way out; which documents it seals, and how, is the codec's
business. Without one, nothing is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from graphdock.server.adapters.postgres.errors import raising_unavailable
from graphdock.server.adapters.sql import tables as t
from graphdock.server.adapters.sql.filters import json_contains
from graphdock.server.ports.errors import StaleAttempt
from graphdock.server.ports.records import (
    AssistantRecord,
    AssistantVersionRecord,
    CronRecord,
    RunRecord,
    RunStatus,
    ThreadRecord,
)
from graphdock.server.ports.storage import Claim, Fence

ACTIVE = ("pending", "running")

R = TypeVar("R")
"""One of the record types of ports.records: what a row of its table reads as."""


class _Connection(Protocol):
    """What SqlTransaction needs of a connection: an AsyncConnection, or an inline one."""

    @property
    def dialect(self) -> sa.Dialect: ...
    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult: ...


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _record(row: sa.Row) -> dict[str, Any]:
    return {k: _aware(v) for k, v in row._mapping.items()}


# The JSON document columns of each table: what a codec seals.
DOCUMENTS = {
    table.name: frozenset(c.name for c in table.columns if isinstance(c.type, sa.JSON))
    for table in (t.assistants, t.assistant_versions, t.threads, t.runs, t.crons)
}


def _by_id(table: sa.Table, column: sa.Column) -> sa.Select:
    return sa.select(table).where(column == sa.bindparam("p_id"))


# The statements every run goes through, composed once with bind parameters: composing a
# statement (and its cache key) costs more than SQLite takes to run it. An UPDATE's SET
# clause comes from the keys of the parameters it is executed with.
GET_ASSISTANT = _by_id(t.assistants, t.assistants.c.assistant_id)
GET_THREAD = _by_id(t.threads, t.threads.c.thread_id)
GET_RUN = _by_id(t.runs, t.runs.c.run_id)
GET_RUN_IN_THREAD = GET_RUN.where(t.runs.c.thread_id == sa.bindparam("p_thread"))
UPDATE_THREAD = t.threads.update().where(t.threads.c.thread_id == sa.bindparam("p_id"))
UPDATE_RUN = t.runs.update().where(t.runs.c.run_id == sa.bindparam("p_id"))
DELETE_RUN = t.runs.delete().where(t.runs.c.run_id == sa.bindparam("p_id"))
# Fencing: only while the attempt still holds the run. The row lock the UPDATE / DELETE takes
# orders it with a claim or a sweep of the same run, and Postgres re-checks the condition
# on the row as they left it.
HELD = sa.and_(t.runs.c.attempt == sa.bindparam("p_attempt"), t.runs.c.status == "running")
UPDATE_RUN_FENCED = UPDATE_RUN.where(HELD)
DELETE_RUN_FENCED = DELETE_RUN.where(HELD)
ACTIVE_RUNS = (
    sa.select(t.runs)
    # two comparisons, not IN (...): an IN list is re-expanded on every execution
    .where(
        t.runs.c.thread_id == sa.bindparam("p_thread"),
        sa.or_(*(t.runs.c.status == s for s in ACTIVE)),
    )
    .order_by(t.runs.c.created_at)
)
# When the earliest run scheduled for later (after_seconds) falls due.
NEXT_DUE = sa.select(sa.func.min(t.runs.c.available_at)).where(
    t.runs.c.status == "pending",
    t.runs.c.available_at > sa.bindparam("p_now", type_=t.Time),
)
INSERT = {
    table: table.insert()
    for table in (t.assistants, t.assistant_versions, t.threads, t.runs, t.crons)
}


class SqlTransaction:
    def __init__(self, conn: _Connection, codec: Any = None):
        self.conn = conn
        self.dialect = conn.dialect.name
        self.codec = codec

    async def _seal(self, table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values to write: a copy, with the document columns sealed by the codec."""
        out = dict(values)
        if self.codec is None:
            return out
        documents = DOCUMENTS[table.name]
        for name, value in values.items():
            if name in documents:
                out[name] = await self.codec.seal(table.name, name, value)
        return out

    async def _open(self, records: list[dict]) -> list[dict]:
        if self.codec is not None:
            for record in records:
                await self.codec.open_record(record)
        return records

    async def _one(self, kind: type[R], stmt, params: dict | None = None) -> R | None:
        """The first row as a `kind` record: the columns of each table are its record's
        fields (adapters/sql/tables.py), so the row is one as read."""
        row = (await self.conn.execute(stmt, params)).first()
        if row is None:
            return None
        record = _record(row)
        if self.codec is not None:
            record = (await self._open([record]))[0]
        return cast(R, record)

    async def _all(self, kind: type[R], stmt, params: dict | None = None) -> list[R]:
        """Every row as a `kind` record (see `_one`)."""
        records = [_record(r) for r in (await self.conn.execute(stmt, params))]
        if self.codec is not None:
            records = await self._open(records)
        return cast(list[R], records)

    async def _scalar(self, stmt, params: dict | None = None) -> Any:
        return (await self.conn.execute(stmt, params)).scalar()

    def _contains(self, column, value: dict | None):
        return json_contains(column, value, self.dialect) if value else sa.true()

    @staticmethod
    def _order(column, order: str):
        return column.asc() if order == "asc" else column.desc()

    # ---------------------------------------------------------------- assistants
    async def insert_assistant(self, record: AssistantRecord) -> None:
        await self.conn.execute(INSERT[t.assistants], await self._seal(t.assistants, record))

    async def insert_assistant_if_absent(self, record: AssistantRecord) -> bool:
        """Several processes starting at once may all add the same system assistant; the
        first wins and the others insert nothing, instead of failing on the key."""
        dialect_insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(t.assistants).on_conflict_do_nothing(
            index_elements=[t.assistants.c.assistant_id]
        )
        sealed = await self._seal(t.assistants, record)
        return (await self.conn.execute(statement, sealed)).rowcount == 1

    async def get_assistant(
        self, assistant_id: str, access: dict | None = None
    ) -> AssistantRecord | None:
        if not access:
            return await self._one(AssistantRecord, GET_ASSISTANT, {"p_id": assistant_id})
        a = t.assistants
        return await self._one(
            AssistantRecord,
            sa.select(a).where(
                a.c.assistant_id == assistant_id, self._contains(a.c.metadata, access)
            ),
        )

    async def update_assistant(self, assistant_id: str, values: dict) -> None:
        a = t.assistants
        values = await self._seal(a, values)
        await self.conn.execute(a.update().where(a.c.assistant_id == assistant_id).values(**values))

    async def delete_assistant(self, assistant_id: str, access: dict | None = None) -> bool:
        a = t.assistants
        res = await self.conn.execute(
            a.delete().where(a.c.assistant_id == assistant_id, self._contains(a.c.metadata, access))
        )
        if res.rowcount:
            v = t.assistant_versions
            await self.conn.execute(v.delete().where(v.c.assistant_id == assistant_id))
        return bool(res.rowcount)

    def _assistant_where(self, graph_id, name, metadata, access):
        a = t.assistants
        conds = [self._contains(a.c.metadata, metadata), self._contains(a.c.metadata, access)]
        if graph_id is not None:
            conds.append(a.c.graph_id == graph_id)
        if name is not None:
            if self.dialect == "postgresql":  # SQLite's LIKE already ignores case
                conds.append(a.c.name.icontains(name, autoescape=True))
            else:
                conds.append(a.c.name.contains(name, autoescape=True))
        return sa.and_(*conds)

    async def search_assistants(
        self, *, graph_id, name, metadata, limit, offset, sort_by, sort_order, access=None
    ) -> list[AssistantRecord]:
        a = t.assistants
        stmt = (
            sa.select(a)
            .where(self._assistant_where(graph_id, name, metadata, access))
            .order_by(
                self._order(a.c[sort_by], sort_order), self._order(a.c.assistant_id, sort_order)
            )
            .limit(limit)
            .offset(offset)
        )
        return await self._all(AssistantRecord, stmt)

    async def count_assistants(self, *, graph_id, name, metadata, access=None) -> int:
        a = t.assistants
        where = self._assistant_where(graph_id, name, metadata, access)
        return await self._scalar(sa.select(sa.func.count()).select_from(a).where(where))

    async def insert_assistant_version(self, record: AssistantVersionRecord) -> None:
        sealed = await self._seal(t.assistant_versions, record)
        await self.conn.execute(INSERT[t.assistant_versions], sealed)

    async def get_assistant_version(
        self, assistant_id: str, version: int
    ) -> AssistantVersionRecord | None:
        v = t.assistant_versions
        return await self._one(
            AssistantVersionRecord,
            sa.select(v).where(v.c.assistant_id == assistant_id, v.c.version == version),
        )

    async def max_assistant_version(self, assistant_id: str) -> int:
        v = t.assistant_versions
        return (
            await self._scalar(
                sa.select(sa.func.max(v.c.version)).where(v.c.assistant_id == assistant_id)
            )
            or 0
        )

    async def list_assistant_versions(
        self, assistant_id, *, metadata, limit, offset
    ) -> list[AssistantVersionRecord]:
        v = t.assistant_versions
        stmt = (
            sa.select(v)
            .where(v.c.assistant_id == assistant_id, self._contains(v.c.metadata, metadata))
            .order_by(v.c.version.desc())
            .limit(limit)
            .offset(offset)
        )
        return await self._all(AssistantVersionRecord, stmt)

    # ---------------------------------------------------------------- threads
    async def insert_thread(self, record: ThreadRecord) -> None:
        await self.conn.execute(INSERT[t.threads], await self._seal(t.threads, record))

    async def get_thread(
        self, thread_id: str, access: dict | None = None, *, lock: bool = False
    ) -> ThreadRecord | None:
        if not access and not (lock and self.dialect == "postgresql"):
            return await self._one(ThreadRecord, GET_THREAD, {"p_id": thread_id})
        th = t.threads
        stmt = sa.select(th).where(
            th.c.thread_id == thread_id, self._contains(th.c.metadata, access)
        )
        if lock and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return await self._one(ThreadRecord, stmt)

    async def update_thread(self, thread_id: str, values: dict) -> None:
        values = await self._seal(t.threads, values)
        await self.conn.execute(UPDATE_THREAD, {**values, "p_id": thread_id})

    async def delete_thread(self, thread_id: str, access: dict | None = None) -> bool:
        th = t.threads
        res = await self.conn.execute(
            th.delete().where(th.c.thread_id == thread_id, self._contains(th.c.metadata, access))
        )
        if res.rowcount:
            await self.conn.execute(t.runs.delete().where(t.runs.c.thread_id == thread_id))
        return bool(res.rowcount)

    def _thread_where(self, ids, metadata, values, status, access):
        th = t.threads
        conds = [self._contains(th.c.metadata, metadata), self._contains(th.c.metadata, access)]
        if values:
            conds.append(th.c["values"].is_not(None))
            conds.append(self._contains(th.c["values"], values))
        if status is not None:
            conds.append(th.c.status == status)
        if ids is not None:
            conds.append(th.c.thread_id.in_(list(ids)))
        return sa.and_(*conds)

    async def search_threads(
        self, *, ids, metadata, values, status, limit, offset, sort_by, sort_order, access=None
    ) -> list[ThreadRecord]:
        th = t.threads
        stmt = (
            sa.select(th)
            .where(self._thread_where(ids, metadata, values, status, access))
            .order_by(
                self._order(th.c[sort_by], sort_order), self._order(th.c.thread_id, sort_order)
            )
            .limit(limit)
            .offset(offset)
        )
        return await self._all(ThreadRecord, stmt)

    async def count_threads(self, *, metadata, values, status, access=None) -> int:
        where = self._thread_where(None, metadata, values, status, access)
        return await self._scalar(sa.select(sa.func.count()).select_from(t.threads).where(where))

    async def thread_ids_by_assistant(self, assistant_id: str) -> list[str]:
        th = t.threads
        stmt = sa.select(th.c.thread_id).where(
            self._contains(th.c.metadata, {"assistant_id": assistant_id})
        )
        return list((await self.conn.execute(stmt)).scalars())

    async def expired_thread_ids(self, now: datetime, limit: int) -> list[str]:
        th = t.threads
        stmt = (
            sa.select(th.c.thread_id)
            .where(th.c.expires_at.is_not(None), th.c.expires_at <= now)
            .limit(limit)
        )
        return list((await self.conn.execute(stmt)).scalars())

    # ---------------------------------------------------------------- runs
    async def insert_run(self, record: RunRecord) -> None:
        await self.conn.execute(INSERT[t.runs], await self._seal(t.runs, record))

    async def get_run(self, run_id: str, thread_id: str | None = None) -> RunRecord | None:
        if thread_id is None:
            return await self._one(RunRecord, GET_RUN, {"p_id": run_id})
        return await self._one(
            RunRecord, GET_RUN_IN_THREAD, {"p_id": run_id, "p_thread": thread_id}
        )

    async def update_run(self, run_id: str, values: dict, *, fence: Fence | None = None) -> bool:
        values = await self._seal(t.runs, values)
        if fence is None:
            res = await self.conn.execute(UPDATE_RUN, {**values, "p_id": run_id})
            return bool(res.rowcount)
        params = {**values, "p_id": run_id, "p_attempt": fence.attempt}
        return await self._fenced(UPDATE_RUN_FENCED, params, fence)

    async def delete_run(self, run_id: str, *, fence: Fence | None = None) -> bool:
        if fence is None:
            res = await self.conn.execute(DELETE_RUN, {"p_id": run_id})
            return bool(res.rowcount)
        return await self._fenced(
            DELETE_RUN_FENCED, {"p_id": run_id, "p_attempt": fence.attempt}, fence
        )

    async def _fenced(self, statement, params: dict, fence: Fence) -> bool:
        """Run a fenced statement: done, or the run is gone (False), or StaleAttempt."""
        if (await self.conn.execute(statement, params)).rowcount:
            return True
        current = await self._one(RunRecord, GET_RUN, {"p_id": fence.run_id})
        if current is None:
            return False
        why = f"the run is {current['status']} at attempt {current['attempt']}"
        raise StaleAttempt(fence.run_id, fence.attempt, why)

    async def list_runs(self, thread_id, *, status, limit, offset) -> list[RunRecord]:
        r = t.runs
        stmt = sa.select(r).where(r.c.thread_id == thread_id)
        if status is not None:
            stmt = stmt.where(r.c.status == status)
        stmt = stmt.order_by(r.c.created_at.desc(), r.c.run_id.desc()).limit(limit).offset(offset)
        return await self._all(RunRecord, stmt)

    async def active_runs(self, thread_id: str) -> list[RunRecord]:
        return await self._all(RunRecord, ACTIVE_RUNS, {"p_thread": thread_id})

    async def runs_with_status(self, statuses: Sequence[str]) -> list[RunRecord]:
        r = t.runs
        return await self._all(
            RunRecord, sa.select(r).where(r.c.status.in_(list(statuses))).order_by(r.c.created_at)
        )

    # ---------------------------------------------------------------- the server's own
    async def get_setting(self, name: str) -> Any:
        s = t.server_settings
        row = (await self.conn.execute(sa.select(s.c.value).where(s.c.name == name))).first()
        return row[0] if row is not None else None

    async def put_setting(self, name: str, value: Any) -> None:
        s = t.server_settings
        dialect_insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(s).values(name=name, value=value)
        await self.conn.execute(
            statement.on_conflict_do_update(index_elements=[s.c.name], set_={"value": value})
        )

    # ---------------------------------------------------------------- crons
    async def insert_cron(self, record: CronRecord) -> None:
        await self.conn.execute(INSERT[t.crons], await self._seal(t.crons, record))

    async def get_cron(self, cron_id: str, access: dict | None = None) -> CronRecord | None:
        c = t.crons
        return await self._one(
            CronRecord,
            sa.select(c).where(c.c.cron_id == cron_id, self._contains(c.c.metadata, access)),
        )

    async def update_cron(self, cron_id: str, values: dict) -> None:
        c = t.crons
        values = await self._seal(c, values)
        await self.conn.execute(c.update().where(c.c.cron_id == cron_id).values(**values))

    async def delete_cron(self, cron_id: str, access: dict | None = None) -> bool:
        c = t.crons
        res = await self.conn.execute(
            c.delete().where(c.c.cron_id == cron_id, self._contains(c.c.metadata, access))
        )
        return bool(res.rowcount)

    def _cron_where(self, assistant_id, thread_id, enabled, metadata, access):
        c = t.crons
        conds = [self._contains(c.c.metadata, metadata), self._contains(c.c.metadata, access)]
        if assistant_id is not None:
            conds.append(c.c.assistant_id == assistant_id)
        if thread_id is not None:
            conds.append(c.c.thread_id == thread_id)
        if enabled is not None:
            conds.append(c.c.enabled == enabled)
        return sa.and_(*conds)

    async def search_crons(
        self,
        *,
        assistant_id,
        thread_id,
        enabled,
        metadata,
        limit,
        offset,
        sort_by,
        sort_order,
        access=None,
    ) -> list[CronRecord]:
        c = t.crons
        stmt = (
            sa.select(c)
            .where(self._cron_where(assistant_id, thread_id, enabled, metadata, access))
            .order_by(self._order(c.c[sort_by], sort_order), self._order(c.c.cron_id, sort_order))
            .limit(limit)
            .offset(offset)
        )
        return await self._all(CronRecord, stmt)

    async def count_crons(self, *, assistant_id, thread_id, metadata, access=None) -> int:
        where = self._cron_where(assistant_id, thread_id, None, metadata, access)
        return await self._scalar(sa.select(sa.func.count()).select_from(t.crons).where(where))

    async def due_crons(self, now: datetime, limit: int) -> list[CronRecord]:
        c = t.crons
        stmt = (
            sa.select(c)
            .where(c.c.enabled.is_(True), c.c.next_run_date.is_not(None), c.c.next_run_date <= now)
            .order_by(c.c.next_run_date)
            .limit(limit)
        )
        return await self._all(CronRecord, stmt)

    async def claim_due_cron(
        self, cron_id: str, expected_next: datetime, new_next: datetime | None
    ) -> bool:
        """Move a cron's next_run_date on, only if nobody else did: the winner fires it."""
        c = t.crons
        res = await self.conn.execute(
            c.update()
            .where(c.c.cron_id == cron_id, c.c.next_run_date == expected_next)
            .values(next_run_date=new_next)
        )
        return res.rowcount == 1


class _InlineConnection:
    """A synchronous connection behind the async interface SqlTransaction expects.

    A local SQLite statement takes microseconds; handing each one to a thread (as aiosqlite
    does) costs far more than running it on the event loop, especially on a busy machine.
    """

    def __init__(self, conn: sa.Connection):
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult:
        return self._conn.execute(statement, parameters)


class SqlStorage:
    """Storage and Queue over an async engine (Postgres) or an inline SQLite engine."""

    def __init__(
        self, engine: AsyncEngine | sa.Engine, lock: asyncio.Lock | None = None, codec: Any = None
    ):
        self.engine = engine
        self.codec = codec
        self.dialect = engine.dialect.name
        self.inline = isinstance(engine, sa.Engine)
        # On SQLite every connection of this process takes turns through one lock: when two
        # connections contend instead, SQLite's busy handler sleeps for milliseconds at a time.
        self.lock = lock or asyncio.Lock()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[SqlTransaction]:
        engine = self.engine
        if not isinstance(engine, sa.Engine):
            # The server went away (stopped, restarting, unreachable): a typed error the API
            # answers with 503 and workers wait out, not a driver's exception.
            with raising_unavailable():
                async with engine.begin() as conn:
                    yield SqlTransaction(conn, self.codec)
            return
        async with self.lock:
            with engine.begin() as conn:
                yield SqlTransaction(_InlineConnection(conn), self.codec)

    async def close(self) -> None:
        result = self.engine.dispose()
        if result is not None:
            await result

    # ---------------------------------------------------------------- queue
    @functools.cached_property
    def _claim_statement(self):
        """Take up to `p_limit` runnable runs, oldest first: pending, due, first in their
        thread, thread not running. At most one per thread, since a later run on the same
        thread has an earlier one pending.

        Built once: composing it (an aliased correlated subquery) costs more than running it.
        """
        r, other = t.runs, t.runs.alias("other")
        now = sa.bindparam("p_now", type_=t.Time)
        busy_or_earlier = sa.exists(
            sa.select(sa.literal(1))
            .select_from(other)
            .where(
                other.c.thread_id == r.c.thread_id,
                other.c.run_id != r.c.run_id,
                sa.or_(
                    other.c.status == "running",
                    sa.and_(other.c.status == "pending", other.c.created_at < r.c.created_at),
                ),
            )
        )
        candidates = (
            sa.select(r.c.run_id)
            .where(r.c.status == "pending", r.c.available_at <= now, ~busy_or_earlier)
            .order_by(r.c.created_at)
            .limit(sa.bindparam("p_limit"))
        )
        if self.dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=r)
        # Chosen once, in a materialized CTE: as a plain IN (subquery), Postgres may run the
        # subquery again per row, and with SKIP LOCKED each run can pick other rows, so
        # more than `p_limit` runs were taken.
        chosen = candidates.cte("chosen").prefix_with("MATERIALIZED")
        return (
            r.update()
            .where(r.c.run_id.in_(sa.select(chosen.c.run_id)), r.c.status == "pending")
            .values(
                status="running",
                worker_id=sa.bindparam("p_worker"),
                attempt=r.c.attempt + 1,
                started_at=now,
                updated_at=now,
                lease_until=sa.bindparam("p_lease", type_=t.Time),
            )
            .returning(*r.c)
        )

    async def claim(self, worker_id: str, now: datetime, lease_seconds: float, limit: int) -> Claim:
        params = {
            "p_now": now,
            "p_worker": worker_id,
            "p_lease": now + timedelta(seconds=lease_seconds),
            "p_limit": limit,
        }
        async with self.begin() as tx:
            rows = (await tx.conn.execute(self._claim_statement, params)).all()
            runs = cast(list[RunRecord], await tx._open([_record(row) for row in rows]))
            runs.sort(key=lambda run: run["created_at"])
            next_due = None
            if len(runs) < limit:
                next_due = _aware(await tx._scalar(NEXT_DUE, {"p_now": now}))
            return Claim(runs, next_due)

    async def heartbeat(
        self, leases: Sequence[Fence], worker_id: str, lease_until: datetime
    ) -> set[str]:
        """Extend the leases of this worker's attempts; the run ids they still hold."""
        if not leases:
            return set()
        attempts = {lease.run_id: lease.attempt for lease in leases}
        r = t.runs
        async with self.begin() as tx:
            rows = await tx.conn.execute(
                r.update()
                .where(
                    r.c.run_id.in_(list(attempts)),
                    r.c.worker_id == worker_id,
                    r.c.status == "running",
                )
                .values(lease_until=lease_until)
                .returning(r.c.run_id, r.c.attempt)
            )
            return {run_id for run_id, attempt in rows if attempts[run_id] == attempt}

    async def stale(self, leases: Sequence[Fence]) -> list[str]:
        """Of these attempts, the runs that moved on without them (re-queued, ended, or run
        by another attempt); a run deleted meanwhile is not among them."""
        if not leases:
            return []
        attempts = {lease.run_id: lease.attempt for lease in leases}
        r = t.runs
        async with self.begin() as tx:
            rows = await tx.conn.execute(
                sa.select(r.c.run_id, r.c.status, r.c.attempt).where(r.c.run_id.in_(list(attempts)))
            )
            return [
                run_id
                for run_id, status, attempt in rows
                if status != "running" or attempt != attempts[run_id]
            ]

    async def requeue_expired(self, now: datetime, max_attempts: int) -> list[RunRecord]:
        """Runs whose worker stopped heartbeating go back to pending (or fail past the limit).

        Each run is taken only while its lease is still the expired one: a sweeper in another
        process that got there first, or a worker that re-claimed the run since, wins.
        """
        r = t.runs
        expired = sa.and_(
            r.c.status == "running", r.c.lease_until.is_not(None), r.c.lease_until < now
        )
        async with self.begin() as tx:
            select = sa.select(r).where(expired)
            if self.dialect == "postgresql":
                select = select.with_for_update(skip_locked=True)
            stale = await tx._all(RunRecord, select)
            taken = []
            for run in stale:
                status: RunStatus = "pending" if run["attempt"] < max_attempts else "error"
                values = {
                    "status": status,
                    "worker_id": None,
                    "lease_until": None,
                    "updated_at": now,
                }
                if status == "error":
                    values["ended_at"] = now
                res = await tx.conn.execute(
                    r.update().where(r.c.run_id == run["run_id"], expired).values(**values)
                )
                if res.rowcount:
                    run["status"] = status
                    taken.append(run)
            return taken
