"""Request bodies of the LangGraph API. They validate input and generate /openapi.json.

Unknown fields are ignored, as the reference server ignores them; every known field is
either honoured by the services or refused with a 422 that names it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def fields(self) -> dict[str, Any]:
        """The fields the client sent (defaults for the rest are the services' to choose)."""
        return self.model_dump(exclude_unset=True)


class AssistantCreate(Body):
    graph_id: str
    assistant_id: str | None = Field(None, json_schema_extra={"format": "uuid"})
    config: JsonObject | None = None
    context: JsonObject | None = None
    metadata: JsonObject | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str | None = None
    description: str | None = None


class AssistantPatch(Body):
    graph_id: str | None = None
    config: JsonObject | None = None
    context: JsonObject | None = None
    metadata: JsonObject | None = None
    name: str | None = None
    description: str | None = None


class AssistantSearch(Body):
    metadata: JsonObject | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0)
    sort_by: Literal["assistant_id", "created_at", "updated_at", "name", "graph_id"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: (
        list[
            Literal[
                "assistant_id",
                "graph_id",
                "config",
                "context",
                "metadata",
                "name",
                "created_at",
                "updated_at",
                "version",
                "description",
            ]
        ]
        | None
    ) = None


class AssistantCount(Body):
    metadata: JsonObject | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantVersionsSearch(Body):
    metadata: JsonObject | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class AssistantSetLatest(Body):
    version: int | None = None


class ThreadTTL(Body):
    strategy: Literal["delete"] = "delete"
    ttl: float | None = Field(None, ge=0, description="minutes")


class SuperstepUpdate(Body):
    values: Any = None
    command: JsonObject | None = None
    as_node: str


class Superstep(Body):
    updates: list[SuperstepUpdate]


class ThreadCreate(Body):
    thread_id: str | None = Field(None, json_schema_extra={"format": "uuid"})
    metadata: JsonObject | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    ttl: ThreadTTL | None = None
    supersteps: list[Superstep] | None = None


class ThreadPatch(Body):
    metadata: JsonObject | None = None
    ttl: ThreadTTL | None = None


ThreadStatus = Literal["idle", "busy", "interrupted", "error"]


class ThreadSearch(Body):
    ids: list[str] | None = None
    metadata: JsonObject | None = None
    values: JsonObject | None = None
    status: ThreadStatus | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0)
    sort_by: (
        Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None
    ) = None
    sort_order: Literal["asc", "desc"] | None = None
    select: (
        list[
            Literal[
                "thread_id",
                "created_at",
                "updated_at",
                "state_updated_at",
                "metadata",
                "config",
                "status",
                "values",
                "interrupts",
                "error",
            ]
        ]
        | None
    ) = None
    extract: dict[str, str] | None = None


class ThreadCount(Body):
    metadata: JsonObject | None = None
    values: JsonObject | None = None
    status: ThreadStatus | None = None


class ThreadPrune(Body):
    thread_ids: list[str]
    strategy: Literal["delete", "keep_latest"] = "delete"


class CheckpointConfig(Body):
    thread_id: str | None = None
    checkpoint_ns: str | None = None
    checkpoint_id: str | None = None
    checkpoint_map: JsonObject | None = None


class ThreadStateUpdate(Body):
    values: JsonObject | list | None = None
    checkpoint: CheckpointConfig | None = None
    checkpoint_id: str | None = None
    as_node: str | None = None


class ThreadStateCheckpoint(Body):
    checkpoint: CheckpointConfig
    subgraphs: bool = False


class ThreadHistory(Body):
    limit: int = Field(1, ge=1, le=1000)
    before: CheckpointConfig | JsonObject | str | None = None
    metadata: JsonObject | None = None
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


class CronFields(Body):
    schedule: str
    timezone: str | None = None
    end_time: str | None = None
    input: JsonObject | list | None = None
    metadata: JsonObject | None = None
    config: JsonObject | None = None
    context: JsonObject | None = None
    webhook: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    enabled: bool | None = None
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Durability | None = None
    checkpoint_during: bool | None = None
    feedback_keys: list[str] | None = None


class CronCreate(CronFields):
    assistant_id: str
    on_run_completed: Literal["delete", "keep"] | None = None


class ThreadCronCreate(CronFields):
    assistant_id: str
    multitask_strategy: MultitaskStrategy | None = None


class CronPatch(Body):
    schedule: str | None = None
    timezone: str | None = None
    end_time: str | None = None
    input: JsonObject | list | None = None
    metadata: JsonObject | None = None
    config: JsonObject | None = None
    context: JsonObject | None = None
    webhook: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    enabled: bool | None = None
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Durability | None = None


class CronSearch(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: JsonObject | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0)
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
    select: list[str] | None = None


class CronCount(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: JsonObject | None = None


class StorePut(Body):
    namespace: list[str]
    key: str
    value: JsonObject
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(None, ge=0)


class StoreDelete(Body):
    namespace: list[str] = []
    key: str


class StoreSearch(Body):
    namespace_prefix: list[str] | None = None
    filter: JsonObject | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0)
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreListNamespaces(Body):
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(None, ge=1)
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)
