"""Request bodies of the LangGraph API. They validate input and generate /openapi.json.

Unknown fields are ignored, as the reference server ignores them; every known field is
either honoured by the services or refused with a 422 that names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, Field

from graphdock.server.services.assistants import ASSISTANT_FIELDS
from graphdock.server.services.crons import CRON_FIELDS
from graphdock.server.services.run_spec import (
    CheckpointConfig,
    MultitaskStrategy,
    RunFields,
    Spec,
    StatelessRunCreate,
    ThreadRunCreate,
)
from graphdock.server.services.threads import STATUSES as THREAD_STATUSES
from graphdock.server.services.threads import THREAD_FIELDS

JsonObject = dict[str, Any]


# Larger numbers fit no database integer: as an offset, version or filter value they are a
# client bug, refused with a 422 that names the field rather than failing in the database.
MAX_INT = 2**62


def _walk(value: Any) -> Iterator[Any]:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


MAX_FILTER_VALUES = 100


def _check_filter(value: dict) -> dict:
    """A filter is matched in the database: its numbers must fit a database integer, and
    its conditions a query (SQLite refuses an expression deeper than 1000)."""
    leaves = 0
    for item in _walk(value):
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            raise ValueError(f"numbers must be within ±{MAX_INT}")
        leaves += not isinstance(item, (dict, list))
        if leaves > MAX_FILTER_VALUES:
            raise ValueError(f"a filter may compare at most {MAX_FILTER_VALUES} values")
    return value


# What no backend stores (NUL characters, integers beyond 64 bits) is refused for every
# body before validation (api/limits.py); these documents need no check of their own.
Stored = JsonObject
Filter = Annotated[JsonObject, AfterValidator(_check_filter)]
Offset = Annotated[int, Field(ge=0, le=MAX_INT)]
Body = Spec
# The default of a field typed without None: pydantic leaves defaults unvalidated, so such
# a field may be left out but refuses an explicit null (a client bug, named in a 422).
NOT_SENT: Any = None


class AssistantCreate(Body):
    # Fields typed without `| None` refuse an explicit null, as the reference does: a null
    # there is a client bug, so it gets a 422 naming the field instead of a silent default.
    graph_id: str
    assistant_id: str = Field(NOT_SENT, json_schema_extra={"format": "uuid"})
    config: Stored = NOT_SENT
    context: Stored = NOT_SENT
    metadata: Stored = NOT_SENT
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str = NOT_SENT
    description: str | None = None


class AssistantPatch(Body):
    graph_id: str = NOT_SENT
    config: Stored = NOT_SENT
    context: Stored = NOT_SENT
    metadata: Stored = NOT_SENT
    name: str = NOT_SENT
    description: str = NOT_SENT


# The fields a `select` may name are the ones the services return.
if TYPE_CHECKING:  # the names are the services' tuples, which mypy cannot read as a Literal
    AssistantField: TypeAlias = str
    ThreadStatus: TypeAlias = str
    ThreadField: TypeAlias = str
    CronField: TypeAlias = str
else:
    AssistantField = Literal[ASSISTANT_FIELDS]
    ThreadStatus = Literal[THREAD_STATUSES]
    ThreadField = Literal[(*THREAD_FIELDS, "interrupts")]
    CronField = Literal[CRON_FIELDS]


class AssistantSearch(Body):
    metadata: Filter = NOT_SENT
    graph_id: str = NOT_SENT
    name: str = Field(NOT_SENT, max_length=1000)  # matched with LIKE, whose patterns SQLite bounds
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: Literal["assistant_id", "created_at", "updated_at", "name", "graph_id"] = NOT_SENT
    sort_order: Literal["asc", "desc"] = NOT_SENT
    select: list[AssistantField] = NOT_SENT


class AssistantCount(Body):
    metadata: Filter = NOT_SENT
    graph_id: str = NOT_SENT
    name: str = Field(NOT_SENT, max_length=1000)  # matched with LIKE, whose patterns SQLite bounds


class AssistantVersionsSearch(Body):
    metadata: Filter = NOT_SENT
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0


class AssistantSetLatest(Body):
    version: Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)] | None = None


class ThreadTTL(Body):
    strategy: Literal["delete", "keep_latest"] = "delete"
    ttl: float = Field(NOT_SENT, ge=0, description="minutes")


class SuperstepUpdate(Body):
    values: Any = None
    command: JsonObject | None = None
    as_node: str


class Superstep(Body):
    updates: list[SuperstepUpdate]


class ThreadCreate(Body):
    thread_id: str = Field(NOT_SENT, json_schema_extra={"format": "uuid"})
    metadata: Stored = NOT_SENT
    if_exists: Literal["raise", "do_nothing"] = "raise"
    ttl: ThreadTTL = NOT_SENT
    supersteps: list[Superstep] = NOT_SENT


class ThreadPatch(Body):
    metadata: Stored = NOT_SENT
    ttl: ThreadTTL = NOT_SENT


class ThreadSearch(Body):
    ids: list[str] = NOT_SENT
    metadata: Filter = NOT_SENT
    values: Filter = NOT_SENT
    status: ThreadStatus = NOT_SENT
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] = (
        NOT_SENT
    )
    sort_order: Literal["asc", "desc"] = NOT_SENT
    select: list[ThreadField] = NOT_SENT
    extract: dict[str, str] = Field(NOT_SENT, max_length=10)


class ThreadCount(Body):
    metadata: Filter = NOT_SENT
    values: Filter = NOT_SENT
    status: ThreadStatus = NOT_SENT


class ThreadPrune(Body):
    thread_ids: list[str]
    strategy: Literal["delete", "keep_latest"] = "delete"


class ThreadStateUpdate(Body):
    values: JsonObject | list | None = None
    checkpoint: CheckpointConfig = NOT_SENT
    checkpoint_id: str | None = None
    as_node: str = NOT_SENT


class ThreadStateCheckpoint(Body):
    checkpoint: CheckpointConfig
    subgraphs: bool = False


class ThreadHistory(Body):
    limit: int = Field(1, ge=1, le=1000)
    # A checkpoint dict, `{"configurable": {...}}`, or a bare checkpoint id (the SDK's `str`).
    before: JsonObject | str | None = None
    metadata: Filter | None = None
    checkpoint: CheckpointConfig | None = None


RunCreateStateful = ThreadRunCreate
RunCreateStateless = StatelessRunCreate


class RunsCancel(Body):
    status: Literal["pending", "running", "all"] | None = None
    thread_id: str | None = None
    run_ids: list[str] | None = None


class CronRunFields(RunFields):
    """A cron stores a run request, so it takes every field a run takes; its runs get them."""

    timezone: str | None = None
    end_time: str | None = None
    enabled: bool | None = None
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
    ttl: float | None = Field(NOT_SENT, ge=0)


class StoreDelete(Body):
    namespace: list[str] = []
    key: str


class StoreSearch(Body):
    namespace_prefix: list[str] | None = None
    filter: Filter | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreListNamespaces(Body):
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(NOT_SENT, ge=1)
    limit: int = Field(100, ge=1, le=1000)
    offset: Offset = 0
