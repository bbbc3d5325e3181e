"""/threads: conversations, their state and history."""

from __future__ import annotations

from fastapi import APIRouter, Request

from graphdock.server.api import models
from graphdock.server.api.deps import context, services, uuid_id
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response, no_content, paginated

router = APIRouter(tags=["Threads"])


@router.post("/threads", summary="Create Thread")
async def create_thread(body: models.ThreadCreate, request: Request):
    fields = body.fields()
    if fields.get("thread_id") is not None:
        fields["thread_id"] = uuid_id(fields["thread_id"], "thread")
    thread, problem = await services(request).threads.create(fields, context(request))
    if problem:
        return json_response({"detail": problem}, 201)
    return json_response(thread)


@router.post("/threads/search", summary="Search Threads")
async def search_threads(body: models.ThreadSearch, request: Request):
    items, has_next = await services(request).threads.search(body.fields(), context(request))
    select = body.select
    if select and body.extract:
        select = [*select, "extracted"]
    return paginated(items, body.limit, body.offset, has_next, select)


@router.post("/threads/count", summary="Count Threads")
async def count_threads(body: models.ThreadCount, request: Request):
    return json_response(await services(request).threads.count(body.fields(), context(request)))


@router.post("/threads/prune", summary="Prune Threads")
async def prune_threads(body: models.ThreadPrune, request: Request):
    return json_response(await services(request).threads.prune(body.fields(), context(request)))


@router.get("/threads/{thread_id}", summary="Get Thread")
async def get_thread(thread_id: str, request: Request):
    thread_id = uuid_id(thread_id, "thread")
    return json_response(await services(request).threads.get(thread_id, context(request)))


@router.patch("/threads/{thread_id}", summary="Patch Thread")
async def patch_thread(thread_id: str, body: models.ThreadPatch, request: Request):
    """Metadata merges into the old. `Prefer: return=minimal` (the SDK's `return_minimal`)
    answers 204 with no body, as the reference does."""
    thread_id = uuid_id(thread_id, "thread")
    thread = await services(request).threads.patch(thread_id, body.fields(), context(request))
    if "return=minimal" in request.headers.get("prefer", "").replace(" ", "").lower():
        return no_content()
    return json_response(thread)


@router.delete("/threads/{thread_id}", summary="Delete Thread", status_code=204)
async def delete_thread(thread_id: str, request: Request):
    thread_id = uuid_id(thread_id, "thread")
    await services(request).threads.delete(thread_id, context(request))
    return no_content()


@router.post("/threads/{thread_id}/copy", summary="Copy Thread")
async def copy_thread(thread_id: str, request: Request):
    thread_id = uuid_id(thread_id, "thread")
    return json_response(await services(request).threads.copy(thread_id, context(request)))


@router.get("/threads/{thread_id}/state", summary="Get Thread State")
async def get_state(thread_id: str, request: Request, subgraphs: bool = False):
    thread_id = uuid_id(thread_id, "thread")
    return json_response(
        await services(request).threads.get_state(thread_id, context(request), subgraphs=subgraphs)
    )


@router.post("/threads/{thread_id}/state", summary="Update Thread State")
async def update_state(thread_id: str, body: models.ThreadStateUpdate, request: Request):
    thread_id = uuid_id(thread_id, "thread")
    return json_response(
        await services(request).threads.update_state(thread_id, body.fields(), context(request))
    )


@router.get("/threads/{thread_id}/state/{checkpoint_id}", summary="Get Thread State At Checkpoint")
async def get_state_at(
    thread_id: str, checkpoint_id: str, request: Request, subgraphs: bool = False
):
    thread_id = uuid_id(thread_id, "thread")
    checkpoint = {"checkpoint_id": checkpoint_id}
    return json_response(
        await services(request).threads.get_state(
            thread_id, context(request), checkpoint=checkpoint, subgraphs=subgraphs
        )
    )


@router.post("/threads/{thread_id}/state/checkpoint", summary="Get Thread State At Checkpoint")
async def post_state_at(thread_id: str, body: models.ThreadStateCheckpoint, request: Request):
    thread_id = uuid_id(thread_id, "thread")
    return json_response(
        await services(request).threads.get_state(
            thread_id,
            context(request),
            checkpoint=body.checkpoint.fields(),
            subgraphs=body.subgraphs,
        )
    )


@router.get("/threads/{thread_id}/history", summary="Get Thread History")
async def get_history(
    thread_id: str, request: Request, limit: str = "1", before: str | None = None
):
    thread_id = uuid_id(thread_id, "thread")
    if not limit.isdigit() or int(limit) > models.MAX_INT:
        raise ApiError(422, f"Invalid limit {limit}")
    return json_response(
        await services(request).threads.history(
            thread_id, context(request), limit=int(limit), before=before
        )
    )


@router.post("/threads/{thread_id}/history", summary="Get Thread History Post")
async def post_history(thread_id: str, body: models.ThreadHistory, request: Request):
    thread_id = uuid_id(thread_id, "thread")
    fields = body.fields()
    return json_response(
        await services(request).threads.history(
            thread_id,
            context(request),
            limit=fields.get("limit", 1),
            before=fields.get("before"),
            metadata=fields.get("metadata"),
            checkpoint=fields.get("checkpoint"),
        )
    )
