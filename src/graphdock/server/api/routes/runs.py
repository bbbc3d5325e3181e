"""Runs on threads and stateless runs: create, stream, wait, join, cancel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from fastapi import Query, Request
from starlette.responses import Response, StreamingResponse

from graphdock.server.api import models
from graphdock.server.api.access import requires
from graphdock.server.api.caller import Caller, CallerDep
from graphdock.server.api.deps import services, uuid_id
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response, no_content, project
from graphdock.server.api.routing import api_router
from graphdock.server.api.sse import (
    WatchfulStreamingResponse,
    sse_body,
    sse_response,
)
from graphdock.server.ports.bus import thread_channel
from graphdock.server.services.run_spec import STREAM_MODES, RunSpec
from graphdock.server.services.runs import RUN_FIELDS

log = logging.getLogger("graphdock.api")
router = api_router(tags=["Thread Runs"])
stateless = api_router(tags=["Stateless Runs"])
# Creating a run is the threads resource's `create_run`; a run on a user-made assistant
# must also pass that assistant's `read` handler (the system ones are everyone's).
CREATE_RUN = ("threads.create_run", "assistants.read")

KEEPALIVE_SECONDS = 5.0
RUN_SELECT = (*RUN_FIELDS, "langsmith_session_name")


def _locations(thread_id: str, run_id: str, tail: str) -> dict[str, str]:
    return {
        "location": f"/threads/{thread_id}/runs/{run_id}/{tail}",
        "content-location": f"/threads/{thread_id}/runs/{run_id}",
    }


async def _create(request: Request, caller: Caller, thread_id: str | None, spec: RunSpec) -> dict:
    thread_metadata = await authorize_run(request, caller, spec, thread_id)
    if thread_id is not None:
        thread_id = uuid_id(thread_id, "thread", "Invalid thread ID")
    return await services(request).runs.create(
        thread_id, spec, caller.ctx, thread_metadata=thread_metadata
    )


async def authorize_run(
    request: Request, caller: Caller, spec: RunSpec, thread_id: str | None
) -> dict | None:
    """Run the auth handlers a new run needs, with the values the official server gives
    them. The handler may change the run's metadata; a stateless run's new thread carries
    that metadata (an owner, say), as in the reference: returned as the thread's metadata."""
    fields = spec.fields()
    value = {
        "thread_id": thread_id,
        "assistant_id": spec.assistant_id,
        "run_id": None,
        "status": "pending",
        "metadata": fields.get("metadata") or {},
        "prevent_insert_if_inflight": True,
        "multitask_strategy": fields.get("multitask_strategy"),
        "if_not_exists": fields.get("if_not_exists"),
        "after_seconds": fields.get("after_seconds"),
        "kwargs": {k: fields[k] for k in RUN_KWARGS_SEEN_BY_AUTH if k in fields},
    }
    await caller.authorize("threads.create_run", value, target=fields, writable=("metadata",))
    if isinstance(fields.get("metadata"), dict):
        spec.metadata = fields["metadata"]
    if not services(request).assistants.is_system(spec.assistant_id):
        await caller.authorize("assistants.read", {"assistant_id": spec.assistant_id})
    return spec.metadata if thread_id is None and spec.metadata else None


RUN_KWARGS_SEEN_BY_AUTH = (
    "input",
    "command",
    "config",
    "context",
    "stream_mode",
    "interrupt_before",
    "interrupt_after",
    "webhook",
    "checkpoint",
)


async def _stop_quietly(svc, run: Mapping[str, Any]) -> None:
    """The client left and asked for its run to go with it (the run may have ended already)."""
    try:
        current = await svc.storage_run(run["run_id"])
        if current is not None and current["status"] in ("pending", "running"):
            await svc.stop(current, "interrupt")
    except Exception:
        log.exception("cancelling run %s after its client left failed", run["run_id"])


def _stream(
    request: Request,
    run: Mapping[str, Any],
    *,
    on_disconnect: str | None,
    after: str | None = None,
    modes: list[str] | None = None,
) -> StreamingResponse:
    svc = services(request).runs

    async def abort() -> None:
        if on_disconnect == "cancel":
            await _stop_quietly(svc, run)

    batches = svc.events(run, after=after, modes=modes, idle=KEEPALIVE_SECONDS)
    return sse_response(
        sse_body(batches, abort), _locations(run["thread_id"], run["run_id"], "stream")
    )


async def _wait(
    request: Request, run: Mapping[str, Any], *, on_disconnect: str | None = None
) -> Response:
    """The run's final body. Most runs end within the keep-alive interval and get a plain JSON
    response; longer ones get a newline every few seconds (so proxies do not time out) and
    then the body. A run that must stop when its client leaves is watched from the start."""
    svc = services(request).runs
    headers = _locations(run["thread_id"], run["run_id"], "join")
    result = asyncio.ensure_future(svc.result(run))
    if on_disconnect != "cancel":
        finished, _ = await asyncio.wait({result}, timeout=KEEPALIVE_SECONDS)
        if finished:
            return Response(result.result(), media_type="application/json", headers=headers)

    async def body() -> AsyncIterator[bytes]:
        done = False
        try:
            while True:
                finished, _ = await asyncio.wait({result}, timeout=KEEPALIVE_SECONDS)
                if finished:
                    break
                yield b"\n"
            done = True
            yield result.result()
        finally:
            if not done:
                result.cancel()
                if on_disconnect == "cancel":
                    with anyio.CancelScope(shield=True):
                        await _stop_quietly(svc, run)

    return WatchfulStreamingResponse(body(), media_type="application/json", headers=headers)


# ---------------------------------------------------------------- thread runs
@router.post("/threads/{thread_id}/runs", summary="Create Background Run")
@requires(*CREATE_RUN)
async def create_run(
    thread_id: str, body: models.RunCreateStateful, request: Request, caller: CallerDep
):
    run = await _create(request, caller, thread_id, body)
    return json_response(
        run, headers={"content-location": f"/threads/{run['thread_id']}/runs/{run['run_id']}"}
    )


@router.post("/threads/{thread_id}/runs/stream", summary="Create Run, Stream Output")
@requires(*CREATE_RUN)
async def stream_run(
    thread_id: str, body: models.RunCreateStateful, request: Request, caller: CallerDep
):
    run = await _create(request, caller, thread_id, body)
    return _stream(request, run, on_disconnect=body.on_disconnect)


@router.post("/threads/{thread_id}/runs/wait", summary="Create Run, Wait for Output")
@requires(*CREATE_RUN)
async def wait_run(
    thread_id: str, body: models.RunCreateStateful, request: Request, caller: CallerDep
):
    run = await _create(request, caller, thread_id, body)
    return await _wait(request, run, on_disconnect=body.on_disconnect)


async def _read_run(caller: Caller, thread_id: str, run_id: str) -> tuple[str, str]:
    await caller.authorize("threads.read", {"thread_id": thread_id, "run_id": run_id})
    return uuid_id(thread_id, "thread"), uuid_id(run_id, "run")


@router.get("/threads/{thread_id}/runs", summary="List Runs")
@requires("threads.search")
async def list_runs(
    thread_id: str,
    request: Request,
    caller: CallerDep,
    limit: int = Query(10, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    status: str | None = None,
    select: list[str] | None = Query(None),
):
    await caller.authorize("threads.search", {"thread_id": thread_id, "metadata": {}})
    thread_id = uuid_id(thread_id, "thread")
    if select:
        bad = [s for s in select if s not in RUN_SELECT]
        if bad:
            raise ApiError(422, f"Invalid select columns: {bad}. Expected: {set(RUN_SELECT)}")
    runs = await services(request).runs.list(
        thread_id, caller.ctx, limit=limit, offset=offset, status=status
    )
    return json_response(project(runs, select))


@router.get("/threads/{thread_id}/runs/{run_id}", summary="Get Run")
@requires("threads.read")
async def get_run(thread_id: str, run_id: str, request: Request, caller: CallerDep):
    thread_id, run_id = await _read_run(caller, thread_id, run_id)
    return json_response(await services(request).runs.get(thread_id, run_id, caller.ctx))


@router.delete("/threads/{thread_id}/runs/{run_id}", summary="Delete Run", status_code=204)
@requires("threads.delete")
async def delete_run(thread_id: str, run_id: str, request: Request, caller: CallerDep):
    await caller.authorize("threads.delete", {"thread_id": thread_id, "run_id": run_id})
    thread_id, run_id = uuid_id(thread_id, "thread"), uuid_id(run_id, "run")
    await services(request).runs.delete(thread_id, run_id, caller.ctx)
    return no_content()


@router.get("/threads/{thread_id}/runs/{run_id}/join", summary="Join Run")
@requires("threads.read")
async def join_run(thread_id: str, run_id: str, request: Request, caller: CallerDep):
    thread_id, run_id = await _read_run(caller, thread_id, run_id)
    run = await services(request).runs.find_run(thread_id, run_id, caller.ctx)
    if run is None:
        raise ApiError(404, "Run not found")
    return await _wait(request, run)


@router.get("/threads/{thread_id}/runs/{run_id}/stream", summary="Join Run Stream")
@requires("threads.read")
async def join_run_stream(
    thread_id: str,
    run_id: str,
    request: Request,
    caller: CallerDep,
    stream_mode: list[str] | None = Query(None),
    cancel_on_disconnect: str = "false",
):
    thread_id, run_id = await _read_run(caller, thread_id, run_id)
    modes = [m for value in (stream_mode or []) for m in value.split(",") if m]
    for mode in modes:
        if mode not in STREAM_MODES:
            raise ApiError(422, f"Invalid stream mode: {mode}")
    run = await services(request).runs.find_run(thread_id, run_id, caller.ctx)
    if run is None:
        raise ApiError(404, "Run not found")
    cancel = cancel_on_disconnect.lower() in ("true", "yes", "1")
    return _stream(
        request,
        run,
        on_disconnect="cancel" if cancel else None,
        after=request.headers.get("last-event-id"),
        modes=modes or None,
    )


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", summary="Cancel Run")
@requires("threads.update")
async def cancel_run(
    thread_id: str,
    run_id: str,
    request: Request,
    caller: CallerDep,
    wait: str = "false",
    action: str = "interrupt",
):
    value = {"thread_id": thread_id, "run_id": run_id, "action": action}
    await caller.authorize("threads.update", value)
    thread_id, run_id = uuid_id(thread_id, "thread"), uuid_id(run_id, "run")
    svc = services(request).runs
    ctx = caller.ctx
    await svc.cancel(thread_id, run_id, ctx, action=action)
    if wait.lower() in ("true", "1", "yes"):
        run = await svc.find_run(thread_id, run_id, ctx)
        if run is not None:
            await svc.wait_until_done(run, timeout=30)
        return json_response({}, headers=_locations(thread_id, run_id, "join"))
    return no_content_with(202)


def no_content_with(status: int):
    response = no_content()
    response.status_code = status
    return response


@router.get("/threads/{thread_id}/stream", summary="Join Thread Stream")
@requires("threads.read")
async def join_thread_stream(
    thread_id: str, request: Request, caller: CallerDep, stream_modes: str = "run_modes"
):
    await caller.authorize("threads.read", {"thread_id": thread_id})
    thread_id = uuid_id(thread_id, "thread")
    modes = [m for m in stream_modes.split(",") if m]
    for mode in modes:
        if mode not in ("run_modes", "lifecycle", "state_update"):
            raise ApiError(422, f"Invalid stream mode: {mode}")
    svc = services(request)
    await svc.threads.get(thread_id, caller.ctx)
    channel = thread_channel(thread_id)
    after = request.headers.get("last-event-id")

    async def batches():
        async for batch in svc.bus.subscribe(
            channel, after=after, live_only=after is None, idle=KEEPALIVE_SECONDS
        ):
            kept = [e for e in batch if _thread_event_wanted(e, modes)]
            if kept or not batch:
                yield kept

    return sse_response(sse_body(batches()))


def _thread_event_wanted(event, modes: list[str]) -> bool:
    if event.event == "state_update":
        return "state_update" in modes
    if event.event == "metadata":
        return "lifecycle" in modes or "run_modes" in modes
    return "run_modes" in modes


# ---------------------------------------------------------------- stateless runs
@stateless.post("/runs", summary="Create Background Run")
@requires(*CREATE_RUN)
async def create_stateless_run(
    body: models.RunCreateStateless, request: Request, caller: CallerDep
):
    run = await _create(request, caller, None, body)
    return json_response(run, headers={"content-location": f"/runs/{run['run_id']}"})


@stateless.post("/runs/stream", summary="Create Run, Stream Output")
@requires(*CREATE_RUN)
async def stream_stateless_run(
    body: models.RunCreateStateless, request: Request, caller: CallerDep
):
    run = await _create(request, caller, None, body)
    return _stream(request, run, on_disconnect=body.on_disconnect)


@stateless.post("/runs/wait", summary="Create Run, Wait for Output")
@requires(*CREATE_RUN)
async def wait_stateless_run(body: models.RunCreateStateless, request: Request, caller: CallerDep):
    run = await _create(request, caller, None, body)
    return await _wait(request, run, on_disconnect=body.on_disconnect)


@stateless.post("/runs/batch", summary="Create Run Batch")
@requires(*CREATE_RUN)
async def create_run_batch(
    body: list[models.RunCreateStateless], request: Request, caller: CallerDep
):
    if not body:
        raise ApiError(422, "[] has less than 1 item")
    return json_response([await _create(request, caller, None, item) for item in body])


@stateless.post("/runs/cancel", summary="Cancel Runs", status_code=204)
@requires("threads.update")
async def cancel_runs(
    body: models.RunsCancel, request: Request, caller: CallerDep, action: str = "interrupt"
):
    fields = body.fields()
    value = {
        "thread_id": fields.get("thread_id"),
        "run_ids": fields.get("run_ids"),
        "status": fields.get("status"),
        "action": action,
    }
    await caller.authorize("threads.update", value)
    await services(request).runs.cancel_many(fields, caller.ctx, action=action)
    return no_content()
