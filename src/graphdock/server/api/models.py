"""Request bodies of the LangGraph API. They validate input and generate /openapi.json.

Unknown fields are ignored, as the reference server ignores them; every known field is
either honoured by the services or refused with a 422 that names it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from graphdock.server.services.assistants import ASSISTANT_FIELDS
from graphdock.server.services.crons import CRON_FIELDS
from graphdock.server.services.threads import STATUSES as THREAD_STATUSES
from graphdock.server.services.threads import THREAD_FIELDS

JsonObject = dict[str, Any]
StreamMode = Literal[
    "values",
    "messages",
    "messages-tuple",
    "updates",
    "events",
    "debug",
    "custom",
    "tasks",
    "checkpoints",
]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
Durability = Literal["sync", "async", "exit"]


# Larger numbers fit no database integer: as an offset, version or filter value they are a
# client bug, refused with a 422 that names the field rather than failing in the database.
MAX_INT = 2**62


def _walk(value: Any):
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_stored(value: Any) -> Any:
    """JSON the server stores must fit every backend: Postgres JSONB refuses NUL characters."""
    if any(isinstance(item, str) and "\x00" in item for item in _walk(value)):
        raise ValueError("strings and keys must not contain NUL characters (\\u0000)")
    return value


def _check_filter(value: dict) -> dict:
    """A filter is matched in the database: storable, with numbers a database integer holds."""
    _check_stored(value)
    for item in _walk(value):
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            raise ValueError(f"numbers must be within ±{MAX_INT}")
    return value


Stored = Annotated[JsonObject, AfterValidator(_check_stored)]
Filter = Annotated[JsonObject, AfterValidator(_check_filter)]
Offset = Annotated[int, Field(ge=0, le=MAX_INT)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def fields(self) -> dict[str, Any]:
        """The fields the client sent (defaults for the rest are the services' to choose)."""
        return self.model_dump(exclude_unset=True)


class AssistantCreate(Body):
    # Fields typed without `| None` refuse an explicit null, as the reference does: a null
    # there is a client bug, so it gets a 422 naming the field instead of a silent default.
    graph_id: str
    assistant_id: str = Field(None, json_schema_extra={"format": "uuid"})
    config: Stored = None
    context: Stored = None
    metadata: Stored = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str = None
    description: str | None = None


class AssistantPatch(Body):
    graph_id: str = None
    config: Stored = None
    context: Stored = None
    metadata: Stored = None
    name: str = None
    description: str = None


# The fields a `select` may name are the ones the services return.
AssistantField = Literal[ASSISTANT_FIELDS]


class AssistantSearch(Body):
    metadata: Filter = None
    graph_id: str = None
    name: str = None
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: Literal["assistant_id", "created_at", "updated_at", "name", "graph_id"] = None
    sort_order: Literal["asc", "desc"] = None
    select: list[AssistantField] = None


class AssistantCount(Body):
    metadata: Filter = None
    graph_id: str = None
    name: str = None


class AssistantVersionsSearch(Body):
    metadata: Filter = None
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0


class AssistantSetLatest(Body):
    version: Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)] | None = None


class ThreadTTL(Body):
    strategy: Literal["delete", "keep_latest"] = "delete"
    ttl: float = Field(None, ge=0, description="minutes")


class SuperstepUpdate(Body):
    values: Annotated[Any, AfterValidator(_check_stored)] = None
    command: JsonObject | None = None
    as_node: str


class Superstep(Body):
    updates: list[SuperstepUpdate]


class ThreadCreate(Body):
    thread_id: str = Field(None, json_schema_extra={"format": "uuid"})
    metadata: Stored = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    ttl: ThreadTTL = None
    supersteps: list[Superstep] = None


class ThreadPatch(Body):
    metadata: Stored = None
    ttl: ThreadTTL = None


ThreadStatus = Literal[THREAD_STATUSES]
ThreadField = Literal[(*THREAD_FIELDS, "interrupts")]


class ThreadSearch(Body):
    ids: list[str] = None
    metadata: Filter = None
    values: Filter = None
    status: ThreadStatus = None
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] = None
    sort_order: Literal["asc", "desc"] = None
    select: list[ThreadField] = None
    extract: dict[str, str] = Field(None, max_length=10)


class ThreadCount(Body):
    metadata: Filter = None
    values: Filter = None
    status: ThreadStatus = None


class ThreadPrune(Body):
    thread_ids: list[str]
    strategy: Literal["delete", "keep_latest"] = "delete"


class CheckpointConfig(Body):
    thread_id: str | None = None
    checkpoint_ns: str | None = None
    checkpoint_id: str | None = None
    checkpoint_map: JsonObject | None = None


class ThreadStateUpdate(Body):
    values: Annotated[JsonObject | list | None, AfterValidator(_check_stored)] = None
    checkpoint: CheckpointConfig = None
    checkpoint_id: str | None = None
    as_node: str = None


class ThreadStateCheckpoint(Body):
    checkpoint: CheckpointConfig
    subgraphs: bool = False


class ThreadHistory(Body):
    limit: int = Field(1, ge=1, le=1000)
    # A checkpoint dict, `{"configurable": {...}}`, or a bare checkpoint id (the SDK's `str`).
    before: JsonObject | str | None = None
    metadata: Filter | None = None
    checkpoint: CheckpointConfig | None = None


class SendSpec(Body):
    node: str
    input: Any = None


class CommandSpec(Body):
    update: JsonObject | list | None = None
    resume: Any = None
    goto: SendSpec | str | list[SendSpec | str] | None = None


class RunBase(Body):
    assistant_id: str
    input: JsonObject | list | str | int | float | bool | None = None
    command: CommandSpec | None = None
    metadata: JsonObject | None = None
    config: JsonObject | None = None
    context: JsonObject | None = None
    webhook: str | None = Field(None, max_length=65536)
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    feedback_keys: list[str] | None = None
    after_seconds: float | None = Field(None, ge=0, le=31_536_000)
    checkpoint_during: bool | None = None
    durability: Durability | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None


class RunCreateStateful(RunBase):
    checkpoint: CheckpointConfig | None = None
    checkpoint_id: str | None = None
    multitask_strategy: MultitaskStrategy | None = None
    if_not_exists: Literal["create", "reject"] | None = None


class RunCreateStateless(RunBase):
    on_completion: Literal["delete", "keep"] | None = None


class RunsCancel(Body):
    status: Literal["pending", "running", "all"] | None = None
    thread_id: str | None = None
    run_ids: list[str] | None = None


class CronRunFields(Body):
    """A cron stores a run request, so it takes every field a run takes; its runs get them."""

    timezone: str | None = None
    end_time: str | None = None
    enabled: bool | None = None
    input: Annotated[
        JsonObject | list | str | int | float | bool | None, AfterValidator(_check_stored)
    ] = None
    command: CommandSpec | None = None
    metadata: Stored | None = None
    config: Stored | None = None
    context: Stored | None = None
    webhook: str | None = Field(None, max_length=65536)
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    feedback_keys: list[str] | None = None
    after_seconds: float | None = Field(None, ge=0, le=31_536_000)
    checkpoint_during: bool | None = None
    durability: Durability | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    multitask_strategy: MultitaskStrategy | None = None


class CronCreate(CronRunFields):
    assistant_id: str
    schedule: str
    on_run_completed: Literal["delete", "keep"] | None = None


class ThreadCronCreate(CronRunFields):
    assistant_id: str
    schedule: str
    checkpoint: CheckpointConfig | None = None
    checkpoint_id: str | None = None
    if_not_exists: Literal["create", "reject"] | None = None


class CronPatch(CronRunFields):
    schedule: str | None = None
    on_run_completed: Literal["delete", "keep"] | None = None


CronField = Literal[CRON_FIELDS]


class CronSearch(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: Filter | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: (
        Literal[
            "cron_id",
            "assistant_id",
            "thread_id",
            "next_run_date",
            "end_time",
            "created_at",
            "updated_at",
        ]
        | None
    ) = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[CronField] | None = None


class CronCount(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: Filter | None = None


class StorePut(Body):
    namespace: list[str]
    key: str
    value: Stored
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(None, ge=0)


class StoreDelete(Body):
    namespace: list[str] = []
    key: str


class StoreSearch(Body):
    namespace_prefix: list[str] | None = None
    filter: Stored | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreListNamespaces(Body):
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(None, ge=1)
    limit: int = Field(100, ge=1, le=1000)
    offset: Offset = 0
