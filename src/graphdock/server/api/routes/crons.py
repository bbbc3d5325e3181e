"""/runs/crons and /threads/{id}/runs/crons: runs on a schedule."""

from __future__ import annotations

from fastapi import Request

from graphdock.server.api import models
from graphdock.server.api.access import requires
from graphdock.server.api.caller import Caller, CallerDep
from graphdock.server.api.deps import services, uuid_id
from graphdock.server.api.responses import json_response, no_content, paginated
from graphdock.server.api.routing import api_router

router = api_router(tags=["Crons"])
CREATE_CRON = ("crons.create", "assistants.read")


async def _as_sent(request: Request, body: models.Body) -> dict:
    """The validated fields in the order the client sent them: a cron's payload echoes them."""
    fields = body.fields()
    try:
        raw = await request.json()
    except ValueError:
        raw = None
    ordered = {k: fields[k] for k in raw if k in fields} if isinstance(raw, dict) else {}
    return {**ordered, **fields}


async def _create(request: Request, caller: Caller, thread_id: str | None, body: models.Body):
    """A cron is the crons resource's; on a thread, the thread must be the caller's to read;
    on a user-made assistant, that assistant too."""
    fields = await _as_sent(request, body)
    value = {
        "payload": {k: v for k, v in fields.items() if k != "metadata"},
        "schedule": fields.get("schedule"),
        "cron_id": None,
        "thread_id": thread_id,
        "user_id": caller.user.identity if caller.user is not None else None,
        "end_time": fields.get("end_time"),
        "metadata": fields.get("metadata") or {},
    }
    await caller.authorize("crons.create", value, target=fields, writable=("metadata",))
    if thread_id is not None:
        await caller.authorize("threads.read", {"thread_id": thread_id})
        thread_id = uuid_id(thread_id, "thread")
    assistant_id = fields.get("assistant_id")
    if isinstance(assistant_id, str) and not services(request).assistants.is_system(assistant_id):
        await caller.authorize("assistants.read", {"assistant_id": assistant_id})
    return json_response(await services(request).crons.create(thread_id, fields, caller.ctx))


@router.post("/threads/{thread_id}/runs/crons", summary="Create Thread Cron")
@requires(*CREATE_CRON, "threads.read")
async def create_thread_cron(
    thread_id: str, body: models.ThreadCronCreate, request: Request, caller: CallerDep
):
    return await _create(request, caller, thread_id, body)


@router.post("/runs/crons", summary="Create Cron")
@requires(*CREATE_CRON)
async def create_cron(body: models.CronCreate, request: Request, caller: CallerDep):
    return await _create(request, caller, None, body)


async def _authorize_search(caller: Caller, fields: dict) -> None:
    value = {
        "assistant_id": fields.get("assistant_id"),
        "thread_id": fields.get("thread_id"),
        "limit": fields.get("limit", 10),
        "offset": fields.get("offset", 0),
        "metadata": fields.get("metadata") or {},
    }
    await caller.authorize("crons.search", value, target=fields, writable=("metadata",))


@router.post("/runs/crons/search", summary="Search Crons")
@requires("crons.search")
async def search_crons(body: models.CronSearch, request: Request, caller: CallerDep):
    fields = body.fields()
    await _authorize_search(caller, fields)
    items, has_next = await services(request).crons.search(fields, caller.ctx)
    return paginated(items, body.limit, body.offset, has_next, body.select)


@router.post("/runs/crons/count", summary="Count Crons")
@requires("crons.search")
async def count_crons(body: models.CronCount, request: Request, caller: CallerDep):
    fields = body.fields()
    await _authorize_search(caller, fields)
    return json_response(await services(request).crons.count(fields, caller.ctx))


@router.get("/runs/crons/{cron_id}", summary="Get Cron")
@requires("crons.read")
async def get_cron(cron_id: str, request: Request, caller: CallerDep):
    await caller.authorize("crons.read", {"cron_id": cron_id})
    cron_id = uuid_id(cron_id, "cron")
    return json_response(await services(request).crons.get(cron_id, caller.ctx))


@router.patch("/runs/crons/{cron_id}", summary="Update Cron")
@requires("crons.update")
async def patch_cron(cron_id: str, body: models.CronPatch, request: Request, caller: CallerDep):
    fields = await _as_sent(request, body)
    value = {
        "cron_id": cron_id,
        **{
            k: fields[k]
            for k in ("schedule", "end_time", "enabled", "on_run_completed", "metadata")
            if k in fields
        },
        "payload": {k: v for k, v in fields.items() if k != "metadata"},
    }
    await caller.authorize("crons.update", value, target=fields, writable=("metadata",))
    cron_id = uuid_id(cron_id, "cron")
    return json_response(await services(request).crons.patch(cron_id, fields, caller.ctx))


@router.delete("/runs/crons/{cron_id}", summary="Delete Cron", status_code=204)
@requires("crons.delete")
async def delete_cron(cron_id: str, request: Request, caller: CallerDep):
    await caller.authorize("crons.delete", {"cron_id": cron_id})
    cron_id = uuid_id(cron_id, "cron")
    await services(request).crons.delete(cron_id, caller.ctx)
    return no_content()
