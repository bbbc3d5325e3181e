"""/threads: conversations, their state and history."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from graphdock.server.api import models
from graphdock.server.api.access import requires
from graphdock.server.api.caller import Caller, CallerDep
from graphdock.server.api.deps import services, uuid_id
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response, no_content, paginated
from graphdock.server.api.routing import api_router

router = api_router(tags=["Threads"])


async def read_thread(caller: Caller, thread_id: str) -> str:
    """Authorize reading the path's thread; its canonical id."""
    await caller.authorize("threads.read", {"thread_id": thread_id})
    return uuid_id(thread_id, "thread")


@router.post("/threads", summary="Create Thread")
@requires("threads.create")
async def create_thread(body: models.ThreadCreate, request: Request, caller: CallerDep):
    fields = body.fields()
    value: dict[str, Any] = {
        **{k: fields[k] for k in ("thread_id", "if_exists", "ttl") if k in fields},
        "metadata": fields.get("metadata") or {},
    }
    await caller.authorize("threads.create", value, target=fields, writable=("metadata", "ttl"))
    if fields.get("thread_id") is not None:
        fields["thread_id"] = uuid_id(fields["thread_id"], "thread")
    thread, problem = await services(request).threads.create(fields, caller.ctx)
    if problem:
        return json_response({"detail": problem}, 201)
    return json_response(thread)


async def authorize_search(caller: Caller, fields: dict) -> None:
    """Run the threads.search handler on a search's fields (it may narrow them)."""
    value = {
        "metadata": fields.get("metadata") or {},
        "values": fields.get("values") or {},
        "status": fields.get("status"),
        "limit": fields.get("limit", 10),
        "offset": fields.get("offset", 0),
        "ids": fields.get("ids"),
    }
    await caller.authorize(
        "threads.search", value, target=fields, writable=("metadata", "values", "status")
    )


@router.post("/threads/search", summary="Search Threads")
@requires("threads.search")
async def search_threads(body: models.ThreadSearch, request: Request, caller: CallerDep):
    fields = body.fields()
    await authorize_search(caller, fields)
    items, has_next = await services(request).threads.search(fields, caller.ctx)
    select = body.select
    if select and body.extract:
        select = [*select, "extracted"]
    return paginated(items, body.limit, body.offset, has_next, select)


@router.post("/threads/count", summary="Count Threads")
@requires("threads.search")
async def count_threads(body: models.ThreadCount, request: Request, caller: CallerDep):
    fields = body.fields()
    await authorize_search(caller, fields)
    return json_response(await services(request).threads.count(fields, caller.ctx))


@router.post("/threads/prune", summary="Prune Threads")
@requires("threads.delete")
async def prune_threads(body: models.ThreadPrune, request: Request, caller: CallerDep):
    await caller.authorize("threads.delete", {"thread_ids": body.thread_ids})
    return json_response(await services(request).threads.prune(body.fields(), caller.ctx))


@router.get("/threads/{thread_id}", summary="Get Thread")
@requires("threads.read")
async def get_thread(thread_id: str, request: Request, caller: CallerDep):
    thread_id = await read_thread(caller, thread_id)
    return json_response(await services(request).threads.get(thread_id, caller.ctx))


@router.patch("/threads/{thread_id}", summary="Patch Thread")
@requires("threads.update")
async def patch_thread(
    thread_id: str, body: models.ThreadPatch, request: Request, caller: CallerDep
):
    """Metadata merges into the old. `Prefer: return=minimal` (the SDK's `return_minimal`)
    answers 204 with no body, as the reference does."""
    fields = body.fields()
    value = {"thread_id": thread_id, "metadata": fields.get("metadata") or {}}
    await caller.authorize("threads.update", value, target=fields, writable=("metadata",))
    thread_id = uuid_id(thread_id, "thread")
    thread = await services(request).threads.patch(thread_id, fields, caller.ctx)
    if "return=minimal" in request.headers.get("prefer", "").replace(" ", "").lower():
        return no_content()
    return json_response(thread)


@router.delete("/threads/{thread_id}", summary="Delete Thread", status_code=204)
@requires("threads.delete")
async def delete_thread(thread_id: str, request: Request, caller: CallerDep):
    await caller.authorize("threads.delete", {"thread_id": thread_id})
    thread_id = uuid_id(thread_id, "thread")
    await services(request).threads.delete(thread_id, caller.ctx)
    return no_content()


@router.post("/threads/{thread_id}/copy", summary="Copy Thread")
@requires("threads.read", "threads.create")
async def copy_thread(thread_id: str, request: Request, caller: CallerDep):
    """Reads the source and creates the copy: both handlers must allow it."""
    thread_id = await read_thread(caller, thread_id)
    await caller.authorize("threads.create", {"thread_id": None, "metadata": {}})
    return json_response(await services(request).threads.copy(thread_id, caller.ctx))


@router.get("/threads/{thread_id}/state", summary="Get Thread State")
@requires("threads.read")
async def get_state(thread_id: str, request: Request, caller: CallerDep, subgraphs: bool = False):
    thread_id = await read_thread(caller, thread_id)
    return json_response(
        await services(request).threads.get_state(thread_id, caller.ctx, subgraphs=subgraphs)
    )


@router.post("/threads/{thread_id}/state", summary="Update Thread State")
@requires("threads.update")
async def update_state(
    thread_id: str, body: models.ThreadStateUpdate, request: Request, caller: CallerDep
):
    await caller.authorize("threads.update", {"thread_id": thread_id})
    thread_id = uuid_id(thread_id, "thread")
    return json_response(
        await services(request).threads.update_state(thread_id, body.fields(), caller.ctx)
    )


@router.get("/threads/{thread_id}/state/{checkpoint_id}", summary="Get Thread State At Checkpoint")
@requires("threads.read")
async def get_state_at(
    thread_id: str, checkpoint_id: str, request: Request, caller: CallerDep, subgraphs: bool = False
):
    thread_id = await read_thread(caller, thread_id)
    checkpoint = {"checkpoint_id": checkpoint_id}
    return json_response(
        await services(request).threads.get_state(
            thread_id, caller.ctx, checkpoint=checkpoint, subgraphs=subgraphs
        )
    )


@router.post("/threads/{thread_id}/state/checkpoint", summary="Get Thread State At Checkpoint")
@requires("threads.read")
async def post_state_at(
    thread_id: str, body: models.ThreadStateCheckpoint, request: Request, caller: CallerDep
):
    thread_id = await read_thread(caller, thread_id)
    return json_response(
        await services(request).threads.get_state(
            thread_id, caller.ctx, checkpoint=body.checkpoint.fields(), subgraphs=body.subgraphs
        )
    )


@router.get("/threads/{thread_id}/history", summary="Get Thread History")
@requires("threads.read")
async def get_history(
    thread_id: str, request: Request, caller: CallerDep, limit: str = "1", before: str | None = None
):
    thread_id = await read_thread(caller, thread_id)
    if not limit.isdigit() or int(limit) > models.MAX_INT:
        raise ApiError(422, f"Invalid limit {limit}")
    return json_response(
        await services(request).threads.history(
            thread_id, caller.ctx, limit=int(limit), before=before
        )
    )


@router.post("/threads/{thread_id}/history", summary="Get Thread History Post")
@requires("threads.read")
async def post_history(
    thread_id: str, body: models.ThreadHistory, request: Request, caller: CallerDep
):
    thread_id = await read_thread(caller, thread_id)
    fields = body.fields()
    return json_response(
        await services(request).threads.history(
            thread_id,
            caller.ctx,
            limit=fields.get("limit", 1),
            before=fields.get("before"),
            metadata=fields.get("metadata"),
            checkpoint=fields.get("checkpoint"),
        )
    )
