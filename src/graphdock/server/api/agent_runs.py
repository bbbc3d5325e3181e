"""Running an assistant for an agent protocol (MCP tools, A2A agents), as the caller.

Both protocols start runs the way the classic API does (the same auth handlers, the same
run service) and then wait for how the run ended. `Outcome` is that ending, read once from
the run's wait body, so the protocol glue never parses `__error__` / `__interrupt__` itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from starlette.requests import Request

from graphdock.server.api.caller import Caller
from graphdock.server.api.deps import services
from graphdock.server.api.routes.runs import authorize_run
from graphdock.server.ports.bus import Event
from graphdock.server.services.run_spec import RunSpec, StatelessRunCreate, ThreadRunCreate

# What a run started for a protocol may use: the run's own handlers, and reading what it left.
RUN_PERMITS = ("threads.create_run", "assistants.read")


@dataclass(frozen=True)
class Outcome:
    """How a run ended: its output, its error, or the interrupts it stopped at."""

    run: dict
    values: Any = None
    error: dict | None = None
    interrupts: list[dict] = field(default_factory=list)

    @property
    def status(self) -> Literal["success", "error", "interrupted"]:
        if self.error is not None:
            return "error"
        return "interrupted" if self.interrupts else "success"

    @property
    def thread_id(self) -> str:
        return self.run["thread_id"]

    @property
    def error_text(self) -> str:
        return error_text(self.error or {})


def error_text(error: dict) -> str:
    """`ValueError: boom`: a run's error (type and message), as a person reads it."""
    name, message = error.get("error") or "Error", error.get("message") or ""
    return f"{name}: {message}" if message else name


async def start_run(
    request: Request,
    caller: Caller,
    assistant_id: str,
    *,
    thread_id: str | None = None,
    input: Any = None,
    command: dict | None = None,
    metadata: dict | None = None,
    stream_mode: list[str] | None = None,
    keep_thread: bool = False,
    create_thread: bool = False,
) -> dict:
    """A new run of `assistant_id`, authorized as an API run would be.

    Without a thread the run is stateless; `keep_thread` keeps its thread after it ends
    (so an interrupt can be answered on it). `create_thread` makes `thread_id` if it does
    not exist yet (A2A's `contextId`). Raises the run service's errors (NotFound, ...)."""
    fields: dict[str, Any] = {
        "assistant_id": assistant_id,
        "input": input,
        "command": command,
        "metadata": dict(metadata or {}),
        "stream_mode": stream_mode or ["values"],
    }
    spec: RunSpec
    if thread_id is None:
        spec = StatelessRunCreate(**fields, on_completion="keep" if keep_thread else None)
    else:
        spec = ThreadRunCreate(**fields, if_not_exists="create" if create_thread else None)
    thread_metadata = await authorize_run(request, caller, spec, thread_id)
    return await services(request).runs.create(
        thread_id, spec, caller.ctx, thread_metadata=thread_metadata
    )


async def outcome(request: Request, run: dict) -> Outcome:
    """Wait for the run to end and read how it did."""
    body = orjson.loads(await services(request).runs.result(run))
    if isinstance(body, dict) and isinstance(body.get("__error__"), dict):
        return Outcome(run, error=body["__error__"])
    if isinstance(body, dict) and body.get("__interrupt__"):
        values = {k: v for k, v in body.items() if k != "__interrupt__"}
        interrupts = [i if isinstance(i, dict) else {"value": i} for i in body["__interrupt__"]]
        return Outcome(run, values=values, interrupts=interrupts)
    return Outcome(run, values=body)


async def events(request: Request, run: dict) -> AsyncIterator[tuple[str, Any]]:
    """The run's events as (name, decoded data), live until it ends."""
    async for batch in services(request).runs.events(run):
        for event in batch:
            yield event.event, _decode(event)


def _decode(event: Event) -> Any:
    try:
        return orjson.loads(event.data)
    except orjson.JSONDecodeError:
        return None


async def forget_thread(request: Request, outcome: Outcome) -> None:
    """Delete the thread a stateless run kept, once nothing can resume it."""
    await services(request).runs.delete_temporary_thread(outcome.thread_id)


async def forget_thread_when_done(request: Request, run: dict) -> None:
    """The same, for a run whose caller left before it ended."""
    ended = await outcome(request, run)
    if ended.status != "interrupted":
        await forget_thread(request, ended)
