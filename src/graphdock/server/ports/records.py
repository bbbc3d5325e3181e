"""The records the Storage port keeps: what each field holds, and why.

Adapters store and return these as they are (JSON documents as written, timestamps as
timezone-aware UTC datetimes); services build and read them. The API's response shapes are
projections of them (services/*.py `shape` functions), never the records themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from langchain_core.runnables import RunnableConfig

Json = dict[str, Any]

RunStatus = Literal["pending", "running", "success", "error", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]


class AssistantRecord(TypedDict):
    """A versioned configuration of a served graph (the latest version's fields)."""

    assistant_id: str
    """A UUID; the system assistant of a graph has a UUID derived from the graph's name."""
    graph_id: str
    """The graph it runs, one of `langgraph.json`'s `graphs`."""
    config: Json
    """A RunnableConfig its runs start from (tags, recursion_limit, configurable, ...)."""
    context: Json
    """The graph's runtime context its runs start from."""
    metadata: Json
    """Searched by containment, and what auth filters match (`{"owner": ...}`)."""
    name: str
    description: str | None
    version: int
    """The latest version's number; every version is kept in AssistantVersionRecord."""
    created_at: datetime
    updated_at: datetime


class AssistantVersionRecord(TypedDict):
    """One version of an assistant, as it was when made."""

    assistant_id: str
    version: int
    graph_id: str
    config: Json
    context: Json
    metadata: Json
    name: str
    description: str | None
    created_at: datetime


class ThreadRecord(TypedDict):
    """A conversation. Its state lives in the checkpointer; the record mirrors the latest
    values, interrupts and status so that reads and searches need no graph."""

    thread_id: str
    created_at: datetime
    updated_at: datetime
    state_updated_at: datetime
    """When the checkpointed state last changed (a run ended, update_state)."""
    metadata: Json
    status: ThreadStatus
    """busy exactly while it has a pending or running run; else what its state says."""
    config: Json
    """The config its latest run was given, without internals or a checkpoint address."""
    values: Json | None
    """The latest state's values; None before its first run ends."""
    interrupts: Json | None
    """Interrupts waiting for an answer, by task id; None before its first run ends."""
    error: Json | None
    """The error its latest run ended with, if it did."""
    ttl: Json | None
    """`{"strategy": ..., "ttl": minutes}` when the thread expires."""
    expires_at: datetime | None


class RunKwargs(TypedDict):
    """What a run executes: built once when the run is created, from the request, the
    assistant and the caller, so that the executor merges nothing."""

    graph_id: NotRequired[str]
    """The graph to run (runs created before it was recorded here read the assistant)."""
    input: Any
    command: Json | None
    """A Command as JSON (resume, update, goto) in place of input."""
    config: RunnableConfig
    """The whole RunnableConfig: the assistant's, then the run's, with `configurable`
    carrying the caller, forwarded headers, the context and the server's ids."""
    context: Json
    """The assistant's context merged with the run's."""
    stream_mode: list[str]
    interrupt_before: list[str] | Literal["*"] | None
    interrupt_after: list[str] | Literal["*"] | None
    webhook: str | None
    feedback_keys: list[str] | None
    temporary: bool
    """A stateless run's thread, deleted when the run ends."""
    subgraphs: bool
    resumable: bool
    checkpoint_during: bool
    durability: Literal["sync", "async", "exit"]
    checkpoint: NotRequired[Json]
    """Where in its thread the run starts: checkpoint_ns / checkpoint_id / checkpoint_map."""
    on_disconnect: NotRequired[Literal["cancel", "continue"]]
    protocol: NotRequired[Literal["v3"]]
    """Started through the v3 thread protocol: the run logs its events to its thread's."""
    resume_if_interrupted: NotRequired[bool]
    """The protocol's run.start: on a thread waiting at an interrupt, the input answers it."""


class RunRecord(TypedDict):
    """A run, and its place in the queue."""

    run_id: str
    thread_id: str
    assistant_id: str
    metadata: Json
    status: RunStatus
    kwargs: RunKwargs
    multitask_strategy: str | None
    created_at: datetime
    updated_at: datetime
    available_at: datetime
    """Not claimed before this (`after_seconds`)."""
    attempt: int
    """Executions so far, the current one included: a crashed run's next attempt resumes
    from its last checkpoint, and a stale attempt's writes are refused."""
    worker_id: NotRequired[str | None]
    lease_until: NotRequired[datetime | None]
    """The worker renews this while it runs the run; past it, the run is re-queued."""
    started_at: NotRequired[datetime | None]
    ended_at: NotRequired[datetime | None]


class CronRecord(TypedDict):
    """A schedule that creates a run each time it fires."""

    cron_id: str
    assistant_id: str
    thread_id: str | None
    """None: each firing runs on a new thread."""
    user_id: str | None
    """Whose runs it creates (the caller who made it)."""
    end_time: datetime | None
    end_time_raw: str | None
    """end_time as the client sent it, echoed back as sent."""
    schedule: str
    timezone: str | None
    payload: Json
    """The run request each firing makes, fields in the order the client sent them."""
    next_run_date: datetime | None
    metadata: Json
    on_run_completed: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
