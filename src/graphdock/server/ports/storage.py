"""The Storage port: durable records of assistants, threads, runs and crons.

Services open one transaction per operation (`async with storage.begin() as tx`) and call
the record operations on it, so a domain rule that spans several records (a run that must
not start on a busy thread, a thread that turns busy with its run) commits or fails whole.
Adapters know no domain rules: they store, filter and lock.

Every read and write takes an optional `access` filter (metadata containment) from the
caller's auth context, so a record another user may not see behaves as if absent.

Writes made on behalf of one execution attempt of a run carry its `Fence`; storage refuses
them (`StaleAttempt`) once the run has moved on to another attempt, atomically with the
write. A database that cannot be reached raises `StorageUnavailable` (ports.errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from graphdock.server.ports.records import (
    AssistantRecord,
    AssistantVersionRecord,
    CronRecord,
    RunRecord,
    ThreadRecord,
)

Record = dict[str, Any]
Access = dict[str, Any] | None

# Where a run's Fence rides in the config its graph runs with (`configurable`), so the
# checkpointer can fence the run's checkpoint writes. langgraph keeps keys starting with
# "__" out of checkpoint metadata.
FENCE_KEY = "__graphdock_fence__"


class Fence(Protocol):
    """One execution attempt of a run, as the worker executing it holds it.

    Claiming a run increments its `attempt`; an attempt holds the run while the run is
    `running` with that attempt. A worker stalled past its lease (its run re-queued and
    claimed again) still has the old number, and its writes are refused.
    """

    @property
    def run_id(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def held(self) -> bool:
        """False once the worker knows it lost the run (its lease ran out, or another worker
        took the run over): no write need reach the database to be refused."""
        ...


class Transaction(Protocol):
    # the server's own records (the encryption key check)
    async def get_setting(self, name: str) -> Any: ...
    async def put_setting(self, name: str, value: Any) -> None: ...

    # assistants
    async def insert_assistant(self, record: AssistantRecord) -> None: ...
    async def insert_assistant_if_absent(self, record: AssistantRecord) -> bool:
        """Insert unless one with this id exists (even one added concurrently); inserted?"""
        ...

    async def get_assistant(
        self, assistant_id: str, access: Access = None
    ) -> AssistantRecord | None: ...
    async def update_assistant(self, assistant_id: str, values: Record) -> None: ...
    async def delete_assistant(self, assistant_id: str, access: Access = None) -> bool: ...
    async def search_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: Record | None,
        limit: int,
        offset: int,
        sort_by: str,
        sort_order: str,
        access: Access = None,
    ) -> list[AssistantRecord]: ...
    async def count_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: Record | None,
        access: Access = None,
    ) -> int: ...
    async def insert_assistant_version(self, record: AssistantVersionRecord) -> None: ...
    async def get_assistant_version(
        self, assistant_id: str, version: int
    ) -> AssistantVersionRecord | None: ...
    async def max_assistant_version(self, assistant_id: str) -> int: ...
    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: Record | None, limit: int, offset: int
    ) -> list[AssistantVersionRecord]: ...

    # threads
    async def insert_thread(self, record: ThreadRecord) -> None: ...
    async def get_thread(
        self, thread_id: str, access: Access = None, *, lock: bool = False
    ) -> ThreadRecord | None: ...
    async def update_thread(self, thread_id: str, values: Record) -> None: ...
    async def delete_thread(self, thread_id: str, access: Access = None) -> bool: ...
    async def search_threads(
        self,
        *,
        ids: Sequence[str] | None,
        metadata: Record | None,
        values: Record | None,
        status: str | None,
        limit: int,
        offset: int,
        sort_by: str,
        sort_order: str,
        access: Access = None,
    ) -> list[ThreadRecord]: ...
    async def count_threads(
        self,
        *,
        metadata: Record | None,
        values: Record | None,
        status: str | None,
        access: Access = None,
    ) -> int: ...
    async def thread_ids_by_assistant(self, assistant_id: str) -> list[str]: ...
    async def expired_thread_ids(self, now: datetime, limit: int) -> list[str]: ...

    # runs
    async def insert_run(self, record: RunRecord) -> None: ...
    async def get_run(self, run_id: str, thread_id: str | None = None) -> RunRecord | None: ...
    async def update_run(self, run_id: str, values: Record, *, fence: Fence | None = None) -> bool:
        """Updated? With `fence`, only while that attempt holds the run: StaleAttempt if
        another attempt (or the sweeper) has it; False if the run was deleted meanwhile."""
        ...

    async def delete_run(self, run_id: str, *, fence: Fence | None = None) -> bool: ...
    async def list_runs(
        self, thread_id: str, *, status: str | None, limit: int, offset: int
    ) -> list[RunRecord]: ...
    async def active_runs(self, thread_id: str) -> list[RunRecord]: ...
    async def runs_with_status(self, statuses: Sequence[str]) -> list[RunRecord]: ...

    # crons
    async def insert_cron(self, record: CronRecord) -> None: ...
    async def get_cron(self, cron_id: str, access: Access = None) -> CronRecord | None: ...
    async def update_cron(self, cron_id: str, values: Record) -> None: ...
    async def delete_cron(self, cron_id: str, access: Access = None) -> bool: ...
    async def search_crons(
        self,
        *,
        assistant_id: str | None,
        thread_id: str | None,
        enabled: bool | None,
        metadata: Record | None,
        limit: int,
        offset: int,
        sort_by: str,
        sort_order: str,
        access: Access = None,
    ) -> list[CronRecord]: ...
    async def count_crons(
        self,
        *,
        assistant_id: str | None,
        thread_id: str | None,
        metadata: Record | None,
        access: Access = None,
    ) -> int: ...
    async def claim_due_cron(
        self, cron_id: str, expected_next: datetime, new_next: datetime | None
    ) -> bool: ...
    async def due_crons(self, now: datetime, limit: int) -> list[CronRecord]: ...


class Storage(Protocol):
    def begin(self) -> AbstractAsyncContextManager[Transaction]: ...
    async def close(self) -> None: ...


class Claim(NamedTuple):
    """Runs a worker took, oldest first. When it took fewer than it asked for, the queue had
    no more runnable ones, and `next_due` says when the earliest run scheduled for later
    (`after_seconds`) falls due: the worker can sleep until then unless woken."""

    runs: list[RunRecord]
    next_due: datetime | None


class Queue(Protocol):
    """Hands pending runs to workers: each run to exactly one worker, one run per thread at once."""

    async def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> Claim: ...
    async def heartbeat(
        self, leases: Sequence[Fence], worker_id: str, lease_until: datetime
    ) -> set[str]:
        """Extend the leases of these attempts; the run ids they still hold."""
        ...

    async def stale(self, leases: Sequence[Fence]) -> list[str]:
        """Of these attempts, the runs that moved on without them: re-queued, ended, or run
        by another attempt (not those deleted: a deleted run is stopped by its cancel)."""
        ...

    async def requeue_expired(self, now: datetime, max_attempts: int) -> list[RunRecord]: ...


class QueueStorage(Storage, Queue, Protocol):
    """The storage adapters serve both ports: the queue is the runs table."""
