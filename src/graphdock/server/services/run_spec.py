"""A run's request, defined once: the fields a client may send, each validated here.

The API takes these models as request bodies (and /openapi.json describes them), the auth
handlers see their values, `RunService.create` turns one into the `RunKwargs` the executor
runs, and a cron stores one as its payload. Unknown fields are ignored, as the reference
ignores them; every known field is honoured or refused with a 422 that names it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Json = dict[str, Any]
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
STREAM_MODES: tuple[str, ...] = get_args(StreamMode)
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
Durability = Literal["sync", "async", "exit"]
NodeList = Literal["*"] | list[str]
MAX_DELAY_SECONDS = 31_536_000  # a year


class Spec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def fields(self) -> dict[str, Any]:
        """The fields the client sent (defaults for the rest are the services' to choose)."""
        return self.model_dump(exclude_unset=True)


class CheckpointConfig(Spec):
    """A checkpoint of a thread, as state reads return it; clients send it back whole."""

    thread_id: str | None = None
    checkpoint_ns: str | None = None
    checkpoint_id: str | None = None
    checkpoint_map: Json | None = None


class SendSpec(Spec):
    node: str
    input: Any = None


class CommandSpec(Spec):
    """A langgraph Command: resume an interrupt, update the state, go to nodes."""

    update: Json | list | None = None
    resume: Any = None
    goto: SendSpec | str | list[SendSpec | str] | None = None


class RunConfig(BaseModel):
    """A RunnableConfig as a client may send it. The known keys are checked (a
    `configurable` that is not an object would break the run); any other RunnableConfig key
    (run_name, max_concurrency, ...) reaches langgraph as sent."""

    model_config = ConfigDict(extra="allow")

    tags: list[str] | None = None
    recursion_limit: Annotated[int, Field(ge=1, le=2**31)] | None = None
    configurable: Json | None = None
    metadata: Json | None = None


class RunFields(Spec):
    """What every run request may carry besides its assistant (a cron's payload too)."""

    input: Json | list | str | int | float | bool | None = None
    command: CommandSpec | None = None
    metadata: Json | None = None
    config: RunConfig | None = None
    context: Json | None = None
    webhook: str | None = Field(None, max_length=65536)
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    feedback_keys: list[str] | None = None
    after_seconds: float | None = Field(None, ge=0, le=MAX_DELAY_SECONDS)
    checkpoint_during: bool | None = None
    durability: Durability | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    interrupt_before: NodeList | None = None
    interrupt_after: NodeList | None = None


class ThreadRunCreate(RunFields):
    """A run on the thread the path names (POST /threads/{thread_id}/runs[/stream|/wait])."""

    assistant_id: str
    checkpoint: CheckpointConfig | None = None
    checkpoint_id: str | None = None
    multitask_strategy: MultitaskStrategy | None = None
    if_not_exists: Literal["create", "reject"] | None = None


class StatelessRunCreate(RunFields):
    """A run on a new thread of its own (POST /runs[/stream|/wait|/batch])."""

    assistant_id: str
    on_completion: Literal["delete", "keep"] | None = None


RunSpec = ThreadRunCreate | StatelessRunCreate
