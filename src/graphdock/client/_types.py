"""Shapes of what the API returns (TypedDicts) and the literals it accepts.

The seed's Data Models, extended with the fields today's servers send. Timestamps arrive
as ISO-8601 strings; the client does not parse them.

Annotations here are evaluated (no `from __future__ import annotations`), so that on Python
3.11 each TypedDict's `__required_keys__` knows its `NotRequired` fields, for tools that
validate answers at run time.
"""

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple, NotRequired, TypeAlias, TypedDict

Json: TypeAlias = dict[str, Any] | None
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
ThreadStreamMode = Literal["run_modes", "lifecycle", "state_update"]
StreamMode = Literal[
    "values",
    "messages",
    "updates",
    "events",
    "tasks",
    "checkpoints",
    "debug",
    "custom",
    "messages-tuple",
    "tools",
    "lifecycle",
]
DisconnectMode = Literal["cancel", "continue"]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
OnConflictBehavior = Literal["raise", "do_nothing"]
OnCompletionBehavior = Literal["delete", "keep"]
Durability = Literal["sync", "async", "exit"]
IfNotExists = Literal["create", "reject"]
PruneStrategy = Literal["delete", "keep_latest"]
CancelAction = Literal["interrupt", "rollback"]
BulkCancelRunsStatus = Literal["pending", "running", "all"]
SortOrder = Literal["asc", "desc"]
StreamVersion = Literal["v1", "v2"]
All = Literal["*"]


class StreamPart(NamedTuple):
    """One server-sent event: `event` name (e.g. `values`, `updates|child:<task>`), decoded `data`, `id`."""

    event: str
    data: Any
    id: str | None = None


class StreamPartV2(TypedDict):
    """One event of `runs.stream(..., version="v2")`: its mode, subgraph namespace and data."""

    type: str
    ns: list[str]
    data: Any
    interrupts: list[Any]


class Config(TypedDict, total=False):
    tags: list[str]
    recursion_limit: int
    configurable: dict[str, Any]


class Checkpoint(TypedDict):
    """A checkpoint reference. The state *at* a checkpoint names none `checkpoint_ns` (servers
    send `{"checkpoint_id", "thread_id"}` there), so it is optional."""

    thread_id: str
    checkpoint_ns: NotRequired[str]
    checkpoint_id: str | None
    checkpoint_map: NotRequired[dict[str, Any] | None]


class GraphSchema(TypedDict):
    graph_id: str
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    state_schema: dict[str, Any] | None
    config_schema: dict[str, Any] | None
    context_schema: NotRequired[dict[str, Any] | None]


Subgraphs: TypeAlias = dict[str, GraphSchema]


class AssistantBase(TypedDict):
    assistant_id: str
    graph_id: str
    config: Config
    context: NotRequired[dict[str, Any]]
    created_at: str
    metadata: Json
    version: NotRequired[int]
    name: str
    description: NotRequired[str | None]


class AssistantVersion(AssistantBase):
    pass


class Assistant(AssistantBase):
    updated_at: str


class AssistantsSearchResponse(TypedDict):
    assistants: list[Assistant]
    next: str | None


class Interrupt(TypedDict):
    value: Any
    id: str
    response_schema: NotRequired[dict[str, Any] | None]


class Thread(TypedDict):
    thread_id: str
    created_at: str
    updated_at: str
    metadata: Json
    status: NotRequired[ThreadStatus]
    values: NotRequired[Json]
    interrupts: NotRequired[dict[str, list[Interrupt]]]
    extracted: NotRequired[dict[str, Any]]


class ThreadTask(TypedDict):
    id: str
    name: str
    error: str | None
    interrupts: list[Interrupt]
    checkpoint: Checkpoint | None
    state: "ThreadState | None"
    result: NotRequired[dict[str, Any] | None]


class ThreadState(TypedDict):
    values: list[dict[str, Any]] | dict[str, Any]
    next: Sequence[str]
    checkpoint: Checkpoint
    metadata: Json
    created_at: str | None
    parent_checkpoint: Checkpoint | None
    tasks: NotRequired[Sequence[ThreadTask]]
    interrupts: NotRequired[list[Interrupt]]


class ThreadUpdateStateResponse(TypedDict):
    checkpoint: Checkpoint


class Run(TypedDict):
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: RunStatus
    metadata: Json
    multitask_strategy: NotRequired[MultitaskStrategy]
    cancel_reason: NotRequired[str | None]


class Cron(TypedDict):
    cron_id: str
    assistant_id: str
    thread_id: str | None
    schedule: str
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    on_run_completed: NotRequired[OnCompletionBehavior | None]
    end_time: NotRequired[str | None]
    timezone: NotRequired[str | None]
    payload: NotRequired[dict[str, Any]]
    user_id: NotRequired[str | None]
    next_run_date: NotRequired[str | None]
    enabled: NotRequired[bool]


class RunCreate(TypedDict, total=False):
    """One element of `runs.create_batch`."""

    thread_id: str | None
    assistant_id: str
    input: dict[str, Any] | None
    metadata: dict[str, Any] | None
    config: Config | None
    context: dict[str, Any] | None
    checkpoint_id: str | None
    interrupt_before: list[str] | None
    interrupt_after: list[str] | None
    webhook: str | None
    multitask_strategy: MultitaskStrategy | None


class RunCreateMetadata(TypedDict):
    run_id: str
    thread_id: str | None


class Item(TypedDict):
    namespace: list[str]
    key: str
    value: dict[str, Any]
    created_at: str
    updated_at: str


class SearchItem(Item, total=False):
    score: float | None


class SearchItemsResponse(TypedDict):
    items: list[SearchItem]


class ListNamespaceResponse(TypedDict):
    namespaces: list[list[str]]


class Send(TypedDict):
    node: str
    input: dict[str, Any] | None


class Command(TypedDict, total=False):
    goto: Send | str | Sequence[Send | str]
    update: dict[str, Any] | Sequence[tuple[str, Any]]
    resume: Any
