"""`client.runs`: start graph runs, stream or wait for their output, cancel and inspect them."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

import httpx

from .._endpoints import (
    AsyncResource,
    Call,
    Stream,
    SyncResource,
    endpoint,
    overloaded_endpoint,
)
from .._errors import RunError
from .._types import (
    All,
    BulkCancelRunsStatus,
    CancelAction,
    Checkpoint,
    Command,
    Config,
    DisconnectMode,
    Durability,
    MultitaskStrategy,
    OnCompletionBehavior,
    Run,
    RunCreate,
    RunCreateMetadata,
    RunStatus,
    StreamMode,
    StreamPart,
    StreamPartV2,
    StreamVersion,
)
from .._wire import NO_BODY, Request, compact, merge_params, path, read_json, truthy

Headers = Mapping[str, str] | None
OnRunCreated = Callable[[RunCreateMetadata], None] | None

_CONTENT_LOCATION = re.compile(r"(/threads/(?P<thread_id>.+))?/runs/(?P<run_id>.+)")


def _run_created_hook(callback: OnRunCreated) -> Callable[[httpx.Response], None] | None:
    """Tell `callback` the new run's ids, read from the `Content-Location` header."""
    if callback is None:
        return None

    def hook(response: httpx.Response) -> None:
        match = _CONTENT_LOCATION.search(response.headers.get("content-location", ""))
        if match:
            callback({"run_id": match["run_id"], "thread_id": match["thread_id"]})

    return hook


def _result_reader(raise_error: bool) -> Callable[[httpx.Response], Any]:
    """Decode a wait/join body; a `{"__error__": {...}}` body becomes `RunError`."""

    def read(response: httpx.Response) -> Any:
        body = read_json(response)
        error = body.get("__error__") if isinstance(body, dict) else None
        if raise_error and isinstance(error, dict):
            raise RunError(error.get("error"), error.get("message"), body)
        return body

    return read


# Parameters that travel in a run's JSON body, in the order the official client sends them.
_BODY_KEYS = (
    "input", "command", "stream_mode", "stream_subgraphs", "stream_resumable", "metadata", "config",
    "context", "checkpoint", "checkpoint_id", "checkpoint_during", "interrupt_before",
    "interrupt_after", "feedback_keys", "on_disconnect", "webhook", "multitask_strategy",
    "if_not_exists", "on_completion", "after_seconds", "langsmith_tracing", "durability",
    "strict_resume", "assistant_id",
)  # fmt: skip


def _payload(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The run body from a method's arguments (`locals()`): body keys only, None dropped.

    `langsmith_tracing` travels as `langsmith_tracer`; seed-style `if_not_exists="raise"`
    means `"reject"`.
    """
    body = {k: arguments[k] for k in _BODY_KEYS if arguments.get(k) is not None}
    if "checkpoint_during" in body:
        warnings.warn(
            "checkpoint_during is deprecated; use durability instead",
            DeprecationWarning,
            stacklevel=3,
        )
    if command := body.pop("command", None):
        body["command"] = compact(command)
    if "langsmith_tracing" in body:
        body["langsmith_tracer"] = body.pop("langsmith_tracing")
    if body.get("if_not_exists") == "raise":
        body["if_not_exists"] = "reject"
    return body


def _runs_path(thread_id: str | None, suffix: str = "") -> str:
    return (path("/threads/{}/runs", thread_id) if thread_id is not None else "/runs") + suffix


class _StreamForms(Protocol):
    """`runs.stream` yields `StreamPart`s, or `StreamPartV2` dicts with `version="v2"`."""

    def v1(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Headers = None,
        params: Any = None,
        on_run_created: OnRunCreated = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        version: Literal["v1"] = "v1",
    ) -> Stream[StreamPart]: ...

    def v2(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Headers = None,
        params: Any = None,
        on_run_created: OnRunCreated = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        version: Literal["v2"],
    ) -> Stream[StreamPartV2]: ...


class RunsEndpoints:
    """The run endpoints (`/threads/{id}/runs/...` and stateless `/runs/...`), defined once."""

    @overloaded_endpoint(_StreamForms.v1, _StreamForms.v2)
    def stream(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Headers = None,
        params: Any = None,
        on_run_created: OnRunCreated = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        version: StreamVersion = "v1",
    ) -> Stream[Any]:
        """Create a run and stream its events as `StreamPart(event, data, id)`.

        Subgraph events are named `<mode>|<node>:<task_id>` when `stream_subgraphs=True`.
        If the connection drops mid-run, the stream rejoins the run and continues
        (losslessly when `stream_resumable=True`). `version="v2"` yields
        `{"type", "ns", "data", "interrupts"}` dicts instead.

        Example:
            async for part in client.runs.stream(tid, "agent", input={"messages": []}, stream_mode=["values", "updates"]):
                print(part.event, part.data)
        """
        body = _payload(locals())
        request = Request(
            "POST",
            _runs_path(thread_id, "/stream"),
            json=body,
            headers=headers,
            params=params,
            on_response=_run_created_hook(on_run_created),
        )
        return Stream(request, version=version)

    @endpoint
    def create(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: str | None = None,
        on_completion: OnCompletionBehavior | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Headers = None,
        params: Any = None,
        on_run_created: OnRunCreated = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
    ) -> Call[Run]:
        """Start a background run; returns the Run (status `pending`).

        Example:
            run = await client.runs.create(tid, "agent", input={"messages": []})
        """
        body = _payload(locals())
        route = path("/threads/{}/runs", thread_id) if thread_id else "/runs"
        return Call(
            Request(
                "POST",
                route,
                json=body,
                headers=headers,
                params=params,
                on_response=_run_created_hook(on_run_created),
            )
        )

    @endpoint
    def create_batch(
        self, payloads: list[RunCreate], *, headers: Headers = None, params: Any = None
    ) -> Call[list[Run]]:
        """Start several stateless runs in one request.

        Example:
            runs = await client.runs.create_batch([{"assistant_id": "agent", "input": {}}])
        """
        body = [compact(p) for p in payloads]
        return Call(Request("POST", "/runs/batch", json=body, headers=headers, params=params))

    @endpoint
    def wait(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Command | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        raise_error: bool = True,
        headers: Headers = None,
        params: Any = None,
        on_run_created: OnRunCreated = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
    ) -> Call[Any]:
        """Run the graph and return its final state values.

        A failed run raises `RunError` (`str(e) == "ValueError: boom"`); with `raise_error=False`
        the `{"__error__": {...}}` body is returned instead.

        Example:
            values = await client.runs.wait(tid, "agent", input={"messages": [{"role": "user", "content": "hi"}]})
        """
        body = _payload(locals())
        request = Request(
            "POST", _runs_path(thread_id, "/wait"), json=body, headers=headers, params=params,
            reader=_result_reader(raise_error), on_response=_run_created_hook(on_run_created), follow_location=True,
        )  # fmt: skip
        return Call(request)

    @endpoint
    def list(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        offset: int = 0,
        status: RunStatus | None = None,
        select: Sequence[str] | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[list[Run]]:
        """List a thread's runs, newest first.

        Example:
            runs = await client.runs.list(tid, status="success")
        """
        query = merge_params(
            {"limit": limit, "offset": offset}
            | compact({"status": status})
            | truthy({"select": select}),
            params,
        )
        return Call(
            Request("GET", path("/threads/{}/runs", thread_id), headers=headers, params=query)
        )

    @endpoint
    def get(
        self, thread_id: str, run_id: str, *, headers: Headers = None, params: Any = None
    ) -> Call[Run]:
        """Get a run.

        Example:
            run = await client.runs.get(tid, run_id)
        """
        return Call(
            Request(
                "GET",
                path("/threads/{}/runs/{}", thread_id, run_id),
                headers=headers,
                params=params,
            )
        )

    @endpoint
    def cancel(
        self,
        thread_id: str,
        run_id: str,
        wait: bool = False,
        *,
        action: CancelAction = "interrupt",
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Any]:
        """Cancel a run (`action="rollback"` also deletes it); `wait=True` waits until it stopped.

        Example:
            await client.runs.cancel(tid, run_id, wait=True)
        """
        query = merge_params({"wait": int(wait), "action": action}, params)
        return Call(
            Request(
                "POST",
                path("/threads/{}/runs/{}/cancel", thread_id, run_id),
                params=query,
                headers=headers,
                follow_location=wait,
            )
        )

    @endpoint
    def cancel_many(
        self,
        *,
        thread_id: str | None = None,
        run_ids: Sequence[str] | None = None,
        status: BulkCancelRunsStatus | None = None,
        action: CancelAction = "interrupt",
        headers: Headers = None,
        params: Any = None,
    ) -> Call[None]:
        """Cancel runs in bulk: some runs of a thread, or every run with a `status`.

        Example:
            await client.runs.cancel_many(status="pending")
        """
        body = truthy({"thread_id": thread_id, "run_ids": list(run_ids or []), "status": status})
        return Call(
            Request(
                "POST",
                "/runs/cancel",
                json=body,
                params=merge_params({"action": action}, params),
                headers=headers,
            )
        )

    @endpoint
    def join(
        self,
        thread_id: str,
        run_id: str,
        *,
        raise_error: bool = True,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Any]:
        """Wait for a run to finish and return its final state values (`RunError` if it failed).

        Example:
            values = await client.runs.join(tid, run["run_id"])
        """
        request = Request(
            "GET",
            path("/threads/{}/runs/{}/join", thread_id, run_id),
            headers=headers,
            params=params,
            reader=_result_reader(raise_error),
            follow_location=True,
        )
        return Call(request)

    @endpoint
    def join_stream(
        self,
        thread_id: str,
        run_id: str,
        *,
        cancel_on_disconnect: bool = False,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        headers: Headers = None,
        params: Any = None,
        last_event_id: str | None = None,
    ) -> Stream[StreamPart]:
        """Stream the events of an existing run; `last_event_id` replays only what came after it.

        Example:
            async for part in client.runs.join_stream(tid, run_id, last_event_id="0"):
                print(part)
        """
        query = merge_params(
            {
                "cancel_on_disconnect": cancel_on_disconnect,
                "stream_mode": stream_mode if stream_mode is not None else "",
            },
            params,
        )
        extra = {"Last-Event-ID": last_event_id} if last_event_id else {}
        request = Request(
            "GET",
            path("/threads/{}/runs/{}/stream", thread_id, run_id),
            json=NO_BODY,
            params=query,
            headers={**extra, **(headers or {})},
        )
        return Stream(request)

    @endpoint
    def delete(
        self, thread_id: str, run_id: str, *, headers: Headers = None, params: Any = None
    ) -> Call[None]:
        """Delete a run (stopping it if it is running).

        Example:
            await client.runs.delete(tid, run_id)
        """
        return Call(
            Request(
                "DELETE",
                path("/threads/{}/runs/{}", thread_id, run_id),
                headers=headers,
                params=params,
            )
        )


class RunsClient(RunsEndpoints, AsyncResource):
    """Run graphs on threads (or statelessly with `thread_id=None`).

    Example:
        result = await client.runs.wait(thread["thread_id"], "agent", input={"messages": []})
    """


class SyncRunsClient(RunsEndpoints, SyncResource):
    """Run graphs on threads (or statelessly with `thread_id=None`).

    Example:
        result = client.runs.wait(thread["thread_id"], "agent", input={"messages": []})
    """
