"""/runs/crons and /threads/{id}/runs/crons: runs on a schedule."""

from __future__ import annotations

from fastapi import APIRouter, Request

from graphdock.server.api import models
from graphdock.server.api.deps import context, services, uuid_id
from graphdock.server.api.responses import json_response, no_content, paginated

router = APIRouter(tags=["Crons"])


async def _as_sent(request: Request, body: models.Body) -> dict:
    """The validated fields in the order the client sent them: a cron's payload echoes them."""
    fields = body.fields()
    try:
        raw = await request.json()
    except ValueError:
        raw = None
    ordered = {k: fields[k] for k in raw if k in fields} if isinstance(raw, dict) else {}
    return {**ordered, **fields}


@router.post("/threads/{thread_id}/runs/crons", summary="Create Thread Cron")
async def create_thread_cron(thread_id: str, body: models.ThreadCronCreate, request: Request):
    thread_id = uuid_id(thread_id, "thread")
    fields = await _as_sent(request, body)
    return json_response(await services(request).crons.create(thread_id, fields, context(request)))


@router.post("/runs/crons", summary="Create Cron")
async def create_cron(body: models.CronCreate, request: Request):
    fields = await _as_sent(request, body)
    return json_response(await services(request).crons.create(None, fields, context(request)))


@router.post("/runs/crons/search", summary="Search Crons")
async def search_crons(body: models.CronSearch, request: Request):
    items, has_next = await services(request).crons.search(body.fields(), context(request))
    return paginated(items, body.limit, body.offset, has_next, body.select)


@router.post("/runs/crons/count", summary="Count Crons")
async def count_crons(body: models.CronCount, request: Request):
    return json_response(await services(request).crons.count(body.fields(), context(request)))


@router.get("/runs/crons/{cron_id}", summary="Get Cron")
async def get_cron(cron_id: str, request: Request):
    cron_id = uuid_id(cron_id, "cron")
    return json_response(await services(request).crons.get(cron_id, context(request)))


@router.patch("/runs/crons/{cron_id}", summary="Update Cron")
async def patch_cron(cron_id: str, body: models.CronPatch, request: Request):
    cron_id = uuid_id(cron_id, "cron")
    fields = await _as_sent(request, body)
    return json_response(await services(request).crons.patch(cron_id, fields, context(request)))


@router.delete("/runs/crons/{cron_id}", summary="Delete Cron", status_code=204)
async def delete_cron(cron_id: str, request: Request):
    cron_id = uuid_id(cron_id, "cron")
    await services(request).crons.delete(cron_id, context(request))
    return no_content()
